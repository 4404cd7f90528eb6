// Lightfield write-back on a real broker and PostgreSQL, against the Lightfield contract
// server: every send to a Lightfield contact leaves exactly one note (or task) on the
// contact's account saying who got what and why, keyed `pw-writeback-<requestId>#<step>`;
// a 500, a lost answer, a 429 and a concurrent duplicate still end in one note; a 429
// slows the writer and never the sends; an unknown contact fails the write-back, not the
// send. The agent runs in-process with the simulated inbox.
import { queryRows } from "@pw/db";
import { Topics } from "@pw/events";
import { createLightfieldClient } from "@pw/lightfield";
import {
  accountFixture,
  contactFixture,
  type LightfieldServer,
  startLightfieldServer,
} from "@pw/lightfield/test-server";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followUp, request } from "../test/fixtures.ts";
import { found, type Harness, harness } from "../test/harness.ts";
import { dispatchConfig } from "./config.ts";
import { type RunningDispatch, startDispatch } from "./start.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const API_KEY = "sk_lf_test_writeback";

type Writeback = {
  state: "pending" | "done" | "failed";
  attempts: number;
  lightfield_id: string | null;
  last_error: string | null;
};

function dispatchEnv(lf: LightfieldServer, extra: Record<string, string> = {}) {
  return {
    PORT: "0",
    UNSUBSCRIBE_SECRET: "writeback-test-secret-0123456789",
    LIGHTFIELD_API_KEY: API_KEY,
    LIGHTFIELD_BASE_URL: lf.url,
    ALLOW_INSECURE_VENDOR_URLS: "1",
    LIGHTFIELD_WRITEBACK_EVERY_MS: "50",
    DISPATCH_QUIET_HOURS: "off",
    DISPATCH_POLL_MS: "50",
    // A follow-up due at once (delayDays 0) goes at once, on the wall clock.
    DISPATCH_LEAD_MIN_GAP_HOURS: "0",
    ...extra,
  };
}

/** A Lightfield contact `con_<n>` on its own account `acc_<n>`; dispatch sees lead `lf_con_<n>`. */
function seedContact(lf: LightfieldServer, n: number) {
  const accountId = `acc_${n}`;
  lf.upsert("accounts", accountFixture(accountId));
  lf.upsert("contacts", contactFixture(n, { accountId }));
  return { leadId: `lf_con_${n}`, contactId: `con_${n}`, accountId };
}

const keyOf = (requestId: string, step = 0) => `pw-writeback-${requestId}#${step}`;

/** The write-back of a send once it stopped moving (`done` or `failed`). */
async function settled(h: Harness, sendKey: string, timeoutMs = 30_000): Promise<Writeback> {
  return found(
    async () => {
      const [row] = await queryRows<Writeback>(
        h.db.db,
        sql`select state, attempts, lightfield_id, last_error
            from dispatch.writebacks where send_key = ${sendKey}`,
      );
      return row && row.state !== "pending" ? row : undefined;
    },
    { timeoutMs, intervalMs: 20, message: `the write-back of ${sendKey} to settle` },
  );
}

const posts = (lf: LightfieldServer, key: string, path = "/v1/notes") =>
  lf.requests.filter((r) => r.method === "POST" && r.path === path && r.idempotencyKey === key);

const text = (record: { fields: Record<string, { value: unknown }> }, field: string) =>
  String(record.fields[field]?.value ?? "");

describe.runIf(kafka && pg)("Lightfield write-back on real services", () => {
  let h: Harness;
  let lf: LightfieldServer;
  let running: RunningDispatch;

  beforeAll(async () => {
    h = await harness(kafka!, pg!, "dsp_writeback");
    lf = await startLightfieldServer(API_KEY);
    running = await startDispatch(dispatchConfig(dispatchEnv(lf)), {
      db: h.db,
      bus: h.bus,
      listen: false,
      logger: h.logger,
    });
  });
  afterAll(async () => {
    await running?.stop();
    await lf?.close();
    await h?.close();
  });

  const notesOf = (key: string) => lf.createdOf("notes").filter((c) => c.idempotencyKey === key);

  it("leaves one note per send on the contact's account, naming the recipient, the variant and why; a follow-up gets its own", async () => {
    const { leadId, accountId } = seedContact(lf, 1);
    const r = request(leadId, {
      variantId: "pain_point",
      followUps: [followUp(1, 0, leadId)],
    });
    await h.publish(Topics.outreachRequested, [r]);
    await h.verdict(r.data.requestId, "sent");
    await h.verdict(r.data.requestId, "sent", 1);

    for (const step of [0, 1]) {
      const sendKey = `${r.data.requestId}#${step}`;
      const w = await settled(h, sendKey);
      expect(w).toMatchObject({ state: "done", attempts: 0 });
      const notes = notesOf(keyOf(r.data.requestId, step));
      expect(notes).toHaveLength(1);
      const note = notes[0]!.record;
      expect(w.lightfield_id).toBe(note.id);
      const [send] = await queryRows<{ sent_at: Date }>(
        h.db.db,
        sql`select sent_at from dispatch.sends where key = ${sendKey}`,
      );
      // Worked off by a 50 ms timer: the note follows the send within moments.
      const lagMs = notes[0]!.at - new Date(send!.sent_at).getTime();
      expect(lagMs).toBeLessThan(5_000);
      if (process.env.TEST_FIGURES) console.info(`step ${step}: note ${lagMs} ms after the send`);
      // On the contact's account, which the server knows.
      expect(note.relationships.$account?.values).toEqual([accountId]);
      expect(lf.get("accounts", accountId)).toBeDefined();
      // What a rep reading the account sees: to whom, which variant, why.
      const title = text(note, "$title");
      const content = text(note, "$content");
      expect(title).toContain(r.data.to);
      expect(title).toContain("pain_point");
      expect(content).toContain(r.data.to);
      expect(content).toContain("pain_point");
      expect(content).toContain(r.data.explanation.summary);
      expect(content).toContain(step === 0 ? "First touch" : "Follow-up 1");
      expect(content).toContain(step === 0 ? r.data.subject : "Re: following up (1)");
      // One request, carrying the send's key.
      const sent = posts(lf, keyOf(r.data.requestId, step));
      expect(sent).toHaveLength(1);
      expect(sent[0]!.headers["idempotency-key"]).toBe(`pw-writeback-${sendKey}`);
      expect(JSON.parse(sent[0]!.body)).toMatchObject({
        fields: { $title: title, $content: content },
        relationships: { $account: accountId },
      });
    }
    expect(await h.inbox(leadId)).toHaveLength(2);
  });

  it("writes nothing for a lead that is not a Lightfield contact", async () => {
    const byEmail = request("email:ann@corp.example");
    const account = request("lf_account_acc_9");
    // A contact's send in the same batch: its note is the barrier.
    const { leadId } = seedContact(lf, 2);
    const contact = request(leadId);
    await h.publish(Topics.outreachRequested, [byEmail, account, contact]);
    for (const r of [byEmail, account, contact]) await h.verdict(r.data.requestId, "sent");
    expect((await settled(h, `${contact.data.requestId}#0`)).state).toBe("done");

    // The write-back is planned in the send's transaction: a `sent` verdict without a row
    // means none will ever be written.
    const planned = await queryRows<{ send_key: string }>(
      h.db.db,
      sql`select send_key from dispatch.writebacks
          where send_key in (${`${byEmail.data.requestId}#0`}, ${`${account.data.requestId}#0`})`,
    );
    expect(planned).toEqual([]);
    for (const r of [byEmail, account])
      expect(lf.requests.filter((q) => q.idempotencyKey?.includes(r.data.requestId))).toEqual([]);
    expect(lf.requests.filter((q) => q.path.includes("account_acc_9"))).toEqual([]);
    expect(notesOf(keyOf(contact.data.requestId))).toHaveLength(1);
  });

  it("retries a 500 on the note and still leaves one", async () => {
    const { leadId } = seedContact(lf, 3);
    lf.inject({ status: 500, method: "POST", path: "/v1/notes" });
    const r = request(leadId);
    await h.publish(Topics.outreachRequested, [r]);
    await h.verdict(r.data.requestId, "sent");
    const w = await settled(h, `${r.data.requestId}#0`);
    expect(w.state).toBe("done");
    expect(posts(lf, keyOf(r.data.requestId)).map((q) => q.status)).toEqual([500, 201]);
    const notes = notesOf(keyOf(r.data.requestId));
    expect(notes).toHaveLength(1);
    expect(w.lightfield_id).toBe(notes[0]!.id);
  });

  it.each([
    ["reset", 4],
    ["hang", 5],
  ] as const)(
    "leaves one note when the answer is lost (%s) after the server created it",
    async (drop, n) => {
      const { leadId } = seedContact(lf, n);
      lf.inject({ drop, method: "POST", path: "/v1/notes" });
      const r = request(leadId);
      await h.publish(Topics.outreachRequested, [r]);
      await h.verdict(r.data.requestId, "sent");
      // A hung answer costs the client's 15 s timeout.
      const w = await settled(h, `${r.data.requestId}#0`, 60_000);
      expect(w.state).toBe("done");
      const notes = notesOf(keyOf(r.data.requestId));
      expect(notes).toHaveLength(1);
      const tries = posts(lf, keyOf(r.data.requestId));
      expect(tries).toHaveLength(2);
      expect(tries[0]!.fault?.drop).toBe(drop);
      // The retry got the first note back instead of writing a second.
      expect(tries[1]).toMatchObject({ status: 201, replayed: true });
      expect(w.lightfield_id).toBe(notes[0]!.id);
    },
    90_000,
  );

  it("slows the writer on a 429 with Retry-After: 1 while sends go on", async () => {
    const slow = seedContact(lf, 6);
    const other = seedContact(lf, 7);
    lf.inject({ status: 429, retryAfter: "1", method: "POST", path: "/v1/notes" });
    const first = request(slow.leadId);
    await h.publish(Topics.outreachRequested, [first]);
    const limited = await found(
      () => posts(lf, keyOf(first.data.requestId)).find((q) => q.status === 429),
      { timeoutMs: 30_000, intervalMs: 10, message: "the 429 on the first note" },
    );

    // While the write-back waits out the 429, another request is sent.
    const second = request(other.leadId);
    await h.publish(Topics.outreachRequested, [second]);
    await waitFor(async () => (await h.inbox(other.leadId)).length === 1, {
      timeoutMs: 30_000,
      intervalMs: 10,
      message: "the second request's mail in the inbox",
    });
    const mailSeenAt = Date.now();

    expect((await settled(h, `${first.data.requestId}#0`)).state).toBe("done");
    const tries = posts(lf, keyOf(first.data.requestId));
    expect(tries.map((q) => q.status)).toEqual([429, 201]);
    const gapMs = tries[1]!.at - limited.at;
    expect(gapMs).toBeGreaterThanOrEqual(950);
    // The mail was in the inbox before the write-back's retry reached Lightfield.
    expect(mailSeenAt).toBeLessThan(tries[1]!.at);
    expect((await settled(h, `${second.data.requestId}#0`)).state).toBe("done");
    expect(notesOf(keyOf(first.data.requestId))).toHaveLength(1);
    expect(notesOf(keyOf(second.data.requestId))).toHaveLength(1);
    if (process.env.TEST_FIGURES)
      console.info(
        `429 gap ${gapMs} ms; second mail ${tries[1]!.at - mailSeenAt} ms before the retry`,
      );
  });

  it("takes a concurrent duplicate's 409 idempotency_conflict as retry-later, and ends done", async () => {
    const { leadId, contactId, accountId } = seedContact(lf, 8);
    const r = request(leadId);
    const key = keyOf(r.data.requestId);
    // Another writer (an instance whose claim ran out) posts the same key while dispatch's
    // write-back is on its way: dispatch's GET of the contact is held 500 ms, the other
    // write runs 1.5 s.
    lf.inject({ delayMs: 500, method: "GET", path: `/v1/contacts/${contactId}` });
    lf.settings.writeDelayMs = 1_500;
    const otherInstance = createLightfieldClient({ baseUrl: lf.url, apiKey: API_KEY });
    try {
      await h.publish(Topics.outreachRequested, [r]);
      await found(
        () => lf.requests.find((q) => q.method === "GET" && q.path === `/v1/contacts/${contactId}`),
        { timeoutMs: 30_000, intervalMs: 5, message: "dispatch reading the contact" },
      );
      const duplicate = otherInstance.createNote(
        { title: "Outreach (other instance)", content: "the same send", accountId },
        { idempotencyKey: key },
      );
      const w = await settled(h, `${r.data.requestId}#0`);
      const theirs = await duplicate;
      expect(w.state).toBe("done");
      expect(w.attempts).toBeGreaterThanOrEqual(1);
      expect(w.lightfield_id).toBe(theirs.id);
      expect(notesOf(key)).toHaveLength(1);
      const ours = posts(lf, key).slice(1);
      expect(ours[0]!.status).toBe(409);
      expect(ours.at(-1)).toMatchObject({ status: 201, replayed: true });
    } finally {
      lf.settings.writeDelayMs = 0;
    }
    const metrics = await running.metrics.registry.metrics();
    const count = (result: string) =>
      Number(
        new RegExp(
          `pw_lightfield_writebacks_total\\{kind="note",result="${result}"[^}]*\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    expect(count("conflict")).toBeGreaterThanOrEqual(1);
    expect(count("done")).toBeGreaterThanOrEqual(1);
    expect(count("failed")).toBe(0);
    expect((await h.verdict(r.data.requestId, "sent")).data.status).toBe("sent");
  });

  it("fails the write-back of a contact Lightfield does not know, once, and the send stays sent", async () => {
    const r = request("lf_con_ghost");
    await h.publish(Topics.outreachRequested, [r]);
    await h.verdict(r.data.requestId, "sent");
    const w = await settled(h, `${r.data.requestId}#0`);
    expect(w).toMatchObject({ state: "failed", attempts: 1 });
    expect(w.last_error).toMatch(/404/);
    // One read, no write: a 404 is not retried, and a failed write-back is never claimed again.
    expect(lf.requests.filter((q) => q.path === "/v1/contacts/con_ghost")).toHaveLength(1);
    expect(lf.requests.filter((q) => q.idempotencyKey === keyOf(r.data.requestId))).toEqual([]);
    const [send] = await queryRows<{ state: string }>(
      h.db.db,
      sql`select state from dispatch.sends where key = ${`${r.data.requestId}#0`}`,
    );
    expect(send?.state).toBe("sent");
    expect(await h.inbox("lf_con_ghost")).toHaveLength(1);
    expect(await running.metrics.registry.metrics()).toMatch(
      /pw_lightfield_writebacks_total\{kind="note",result="failed"[^}]*\} 1\b/,
    );
  });
});

describe.runIf(kafka && pg)("Lightfield write-back as tasks", () => {
  let h: Harness;
  let lf: LightfieldServer;
  let running: RunningDispatch;

  beforeAll(async () => {
    h = await harness(kafka!, pg!, "dsp_writeback_task");
    lf = await startLightfieldServer(API_KEY);
    running = await startDispatch(
      dispatchConfig(
        dispatchEnv(lf, { LIGHTFIELD_WRITEBACK: "task", LIGHTFIELD_TASK_ASSIGNEE: "mem_1" }),
      ),
      { db: h.db, bus: h.bus, listen: false, logger: h.logger },
    );
  });
  afterAll(async () => {
    await running?.stop();
    await lf?.close();
    await h?.close();
  });

  it("creates a TODO task assigned to LIGHTFIELD_TASK_ASSIGNEE instead of a note", async () => {
    const { leadId, accountId } = seedContact(lf, 1);
    const r = request(leadId);
    await h.publish(Topics.outreachRequested, [r]);
    await h.verdict(r.data.requestId, "sent");
    const w = await settled(h, `${r.data.requestId}#0`);
    expect(w.state).toBe("done");
    const tasks = lf.createdOf("tasks").filter((c) => c.idempotencyKey === keyOf(r.data.requestId));
    expect(tasks).toHaveLength(1);
    const task = tasks[0]!.record;
    expect(w.lightfield_id).toBe(task.id);
    expect(text(task, "$status")).toBe("TODO");
    expect(task.relationships.$assignedTo?.values).toEqual(["mem_1"]);
    expect(task.relationships.$account?.values).toEqual([accountId]);
    expect(text(task, "$title")).toContain(r.data.to);
    expect(text(task, "$description")).toContain(r.data.explanation.summary);
    expect(lf.createdOf("notes")).toEqual([]);
  });
});
