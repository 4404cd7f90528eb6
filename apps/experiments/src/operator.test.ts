// Operator overrides and the engine's own suppression, on embedded PGlite. Every command
// is signed by a gateway key the operator trusts; unsigned, forged, unknown-key and stale
// ones are refused without touching anything.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { commandKeyPair, OperatorCommand, signCommand } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ONE_CLEAR_WINNER,
  operatorCommand,
  optOuts,
  outcome,
  scored,
  settleEvidence,
} from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

let handle: DbHandle;
const gateway = commandKeyPair("gw-test");
/** What the experiments service is configured to trust. */
const auth = { keys: new Map([[gateway.keyId, gateway.publicKey]]) };
/** A command as the gateway sends it: signed with its key. */
const command = (
  type: string,
  data: Record<string, unknown>,
  subject = "operator:global",
  o: { id?: string; time?: string } = {},
) => signCommand(operatorCommand(type, data, subject, o), gateway.privateKey, gateway.keyId);
const run = async (ops: ReturnType<typeof operatorBuilder>, c: OperatorCommand) =>
  (await ops.handleCommand(c)).result;
const killSwitch = async () =>
  (await handle.db.select().from(schema.settings)).find((s) => s.key === "kill_switch")?.enabled ??
  false;
const updates = async () =>
  (await handle.db.select().from(schema.experimentsOutbox))
    .map((r) => r.payload as { type: string; data: Record<string, unknown> })
    .filter((p) => p.type.startsWith("experiment."));
const requests = async () =>
  (await handle.db.select().from(schema.experimentsOutbox))
    .map(
      (r) =>
        r.payload as {
          type: string;
          subject: string;
          data: { variantId: string; subject: string; explanation: { summary: string } };
        },
    )
    .filter((p) => p.type === "outreach.requested.v1");
const arm = async (segment: string, variantId: string) =>
  (
    await handle.db
      .select()
      .from(schema.arms)
      .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, variantId)))
  )[0]!;

describe("operator commands and suppression", () => {
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  it("the kill switch stops all new outreach at once; leads wait and go out when it is released", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(1),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    expect(
      await run(ops, command("operator.kill_switch.v1", { engaged: true, reason: "bad copy" })),
    ).toBe("applied");
    expect(await engine.handleScored(scored("k1"))).toBe("queued");
    expect(await engine.drain()).toMatchObject({ requested: 0, waiting: 1 });
    expect(await requests()).toHaveLength(0);
    await run(ops, command("operator.kill_switch.v1", { engaged: false }));
    expect(await engine.drain()).toMatchObject({ requested: 1, waiting: 0 });
    expect((await requests()).map((r) => r.subject)).toEqual(["k1"]);
  });

  it("approval mode holds decisions for an operator: approve sends, reject does not, an opt-out withdraws", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(7),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await run(ops, command("operator.approval_mode.v1", { enabled: true }));
    for (const id of ["a1", "a2", "a3"]) await engine.handleScored(scored(id));
    expect(await engine.drain()).toMatchObject({ requested: 0, pendingApproval: 3 });
    expect(await requests()).toHaveLength(0);
    expect((await arm("exec-mid", "roi")).exposures).toBe(0); // held decisions are not sends yet
    const held = await handle.db.select().from(schema.decisions);
    expect(held.map((d) => d.state)).toEqual([
      "pending_approval",
      "pending_approval",
      "pending_approval",
    ]);
    const id = (lead: string) => held.find((d) => d.leadId === lead)!.requestId;
    const approve = command("operator.approval_decision.v1", {
      requestId: id("a1"),
      decision: "approve",
    });
    expect(await run(ops, approve)).toBe("applied");
    expect(await run(ops, approve)).toBe("duplicate");
    expect(
      await run(
        ops,
        command("operator.approval_decision.v1", { requestId: id("a1"), decision: "approve" }),
      ),
    ).toBe("ignored"); // already decided
    expect(
      await run(
        ops,
        command("operator.approval_decision.v1", {
          requestId: id("a2"),
          decision: "reject",
          reason: "competitor",
        }),
      ),
    ).toBe("applied");
    await run(ops, command("operator.lead_command.v1", { action: "do_not_contact" }, "a3"));
    expect(
      await run(
        ops,
        command("operator.approval_decision.v1", { requestId: id("a3"), decision: "approve" }),
      ),
    ).toBe("ignored");
    const sent = await requests();
    expect(sent.map((r) => r.subject)).toEqual(["a1"]);
    expect(sent[0]!.data.explanation.summary).toMatch(/Approved by ops@acme.io\.$/);
    const states = Object.fromEntries(
      (await handle.db.select().from(schema.decisions)).map((d) => [d.leadId, d.state]),
    );
    expect(states).toEqual({ a1: "requested", a2: "rejected", a3: "rejected" });
    const exposures = (await handle.db.select().from(schema.arms)).reduce(
      (n, a) => n + a.exposures,
      0,
    );
    expect(exposures).toBe(1);
  });

  it("lead commands: suppress and unsuppress, do-not-contact that unsuppress cannot lift, prioritise", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: {
        ...defaultEngineSettings(),
        capacity: { ...defaultEngineSettings().capacity, perDay: 1 },
      },
      rng: seededRng(8),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await run(ops, command("operator.lead_command.v1", { action: "suppress" }, "s1"));
    expect(await engine.handleScored(scored("s1"))).toBe("skipped");
    expect(
      await run(ops, command("operator.lead_command.v1", { action: "unsuppress" }, "s1")),
    ).toBe("applied");
    expect(await engine.handleScored(scored("s1"))).toBe("queued");
    await run(ops, command("operator.lead_command.v1", { action: "do_not_contact" }, "d1"));
    expect(
      await run(ops, command("operator.lead_command.v1", { action: "unsuppress" }, "d1")),
    ).toBe("ignored");
    await run(ops, command("operator.lead_command.v1", { action: "suppress" }, "d1"));
    expect(await engine.handleScored(scored("d1"))).toBe("skipped");
    await engine.handleScored(scored("big", { score: 99 }));
    expect(
      await run(ops, command("operator.lead_command.v1", { action: "prioritise" }, "s1")),
    ).toBe("applied");
    await engine.drain();
    expect((await requests()).map((r) => r.subject)).toEqual(["s1"]);
  });

  it("a do-not-contact is announced on lead.consent.v1 once; a suppression is not an opt-out", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(10),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    const dnc = (lead: string, reason?: string) =>
      command(
        "operator.lead_command.v1",
        { action: "do_not_contact", ...(reason ? { reason } : {}) },
        lead,
      );
    const first = dnc("o1", "asked by phone");
    expect(await run(ops, first)).toBe("applied");
    expect(await run(ops, first)).toBe("duplicate");
    await run(ops, dnc("o1")); // already on the list
    await run(ops, dnc("o2"));
    // A suppression is the engine's own and reversible: not announced — until it becomes a do-not-contact.
    await run(ops, command("operator.lead_command.v1", { action: "suppress" }, "o3"));
    expect((await optOuts(handle.db)).map((e) => e.subject)).toEqual(["o1", "o2"]);
    await run(ops, dnc("o3"));
    // A lead who opted out in a reply is announced by the engine, not again by the operator.
    await engine.handleScored(scored("o4"));
    await engine.drain();
    const [req] = await requests();
    await engine.handleOutcome(
      outcome("o4", "replied", new Date(), undefined, undefined, { replyText: "Unsubscribe me" }),
    );
    await run(ops, dnc("o4"));
    const events = await optOuts(handle.db);
    expect(events.map((e) => [e.subject, e.data.source, e.data.reason])).toEqual([
      ["o1", "operator", "asked by phone"],
      ["o2", "operator", "operator: do not contact"],
      ["o3", "operator", "operator: do not contact"],
      ["o4", "reply_text", "asked in a reply"],
    ]);
    expect(req!.subject).toBe("o4");
    expect(events[0]!.data.requestId).toBeUndefined();
  });

  it("playbook edits by command: a new variant joins the experiment, a retired one leaves it, both announced", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(9),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    const upsert = command("operator.playbook_upsert.v1", {
      variantId: "event_invite",
      channel: "email",
      angle: "event",
      subjectTemplate: "{{firstName}}, join our {{industry}} roundtable",
      bodyTemplate:
        "Hi {{firstName}}, we host 12 {{industry}} leaders next month. A seat for {{company}}?",
      cadenceStep: 0,
      delayDays: 0,
    });
    expect(await run(ops, upsert)).toBe("applied");
    expect(
      await run(ops, command("operator.playbook_retire.v1", { variantId: "pain_point" })),
    ).toBe("applied");
    expect(
      await run(ops, command("operator.playbook_retire.v1", { variantId: "pain_point" })),
    ).toBe("ignored");
    for (let i = 0; i < 60; i++) await engine.handleScored(scored(`pb${i}`));
    await engine.drain();
    const reqs = await requests();
    const picked = new Set(reqs.map((r) => r.data.variantId));
    expect(picked.has("event_invite")).toBe(true);
    expect(picked.has("pain_point")).toBe(false);
    const invite = reqs.find((r) => r.data.variantId === "event_invite")!;
    expect(invite.data.subject).toBe("Ada, join our SaaS roundtable");
    const changes = (await updates()).filter((u) => u.type === "experiment.playbook_changed.v1");
    expect(changes.map((c) => [c.data.variantId, c.data.change, c.data.by])).toEqual([
      ["event_invite", "created", "ops@acme.io"],
      ["pain_point", "retired", "ops@acme.io"],
    ]);
  });

  it("pauses a variant (no traffic, announced), resumes it; revive only lifts a suppression", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(2),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await engine.handleScored(scored("p0"));
    await engine.drain(); // creates the segment's arms
    expect(
      await run(
        ops,
        command("operator.variant_command.v1", {
          action: "pause",
          variantId: "roi",
          segment: "exec-mid",
          reason: "legal review",
        }),
      ),
    ).toBe("applied");
    expect((await arm("exec-mid", "roi")).status).toBe("paused");
    for (let i = 0; i < 60; i++) await engine.handleScored(scored(`p${i + 1}`));
    await engine.drain();
    const picks = (await handle.db.select().from(schema.decisions)).map((d) => d.variantId);
    expect(picks.slice(1)).not.toContain("roi");
    expect(
      (await updates()).find((u) => u.type === "experiment.variant_status_changed.v1")?.data,
    ).toMatchObject({
      variantId: "roi",
      from: "active",
      to: "paused",
      by: "operator",
      reason: "legal review",
    });
    expect(
      await run(
        ops,
        command("operator.variant_command.v1", { action: "revive", variantId: "roi" }),
      ),
    ).toBe("ignored");
    expect(
      await run(
        ops,
        command("operator.variant_command.v1", { action: "resume", variantId: "roi" }),
      ),
    ).toBe("applied");
    expect((await arm("exec-mid", "roi")).status).toBe("active");
  });

  it("suppresses a variant that keeps losing after enough sends, announces why, and an operator can revive it", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(3),
      suppression: { minExposures: 300, threshold: 0.05, consecutiveChecks: 3 },
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await engine.handleScored(scored("s0"));
    await engine.drain();
    // Evidence as if 400 sends each had been settled: case_study converts far better.
    await settleEvidence(handle.db, ONE_CLEAR_WINNER);
    const suppressedAll: string[] = [];
    for (let i = 0; i < 3; i++) suppressedAll.push(...(await engine.review()));
    expect(suppressedAll).toContain("exec-mid/pain_point");
    expect(suppressedAll).not.toContain("exec-mid/case_study");
    const change = (await updates()).find(
      (u) => u.type === "experiment.variant_status_changed.v1" && u.data.variantId === "pain_point",
    );
    expect(change?.data).toMatchObject({ to: "suppressed", by: "engine" });
    expect(String(change?.data.reason)).toMatch(/P\(best\) stayed under 5.0% for 3 reviews/);
    const snapshot = (await updates())
      .filter((u) => u.type === "experiment.posterior_snapshot.v1")
      .at(-1)!;
    expect(
      (snapshot.data.arms as { variantId: string; pBest: number }[]).find(
        (a) => a.variantId === "case_study",
      )!.pBest,
    ).toBeGreaterThan(0.9);
    expect(
      await run(
        ops,
        command("operator.variant_command.v1", {
          action: "revive",
          variantId: "pain_point",
          segment: "exec-mid",
        }),
      ),
    ).toBe("applied");
    expect((await arm("exec-mid", "pain_point")).status).toBe("active");
  });
});

describe("operator command authentication", () => {
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  const release = (o: { id?: string; time?: string } = {}) =>
    command("operator.kill_switch.v1", { engaged: false }, "operator:global", o);
  const engage = (o: { id?: string; time?: string } = {}) =>
    command("operator.kill_switch.v1", { engaged: true }, "operator:global", o);

  it("refuses an unsigned command as sent by anyone who can reach the broker: nothing changes", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    const outcome = await ops.handleCommand(
      operatorCommand("operator.kill_switch.v1", { engaged: true, operator: "ceo@acme.io" }),
    );
    expect(outcome).toMatchObject({ result: "unauthenticated", reason: "unsigned" });
    expect(await killSwitch()).toBe(false);
  });

  it("refuses a signed command whose content was changed after signing", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    expect(await run(ops, engage())).toBe("applied");
    // A captured release, replayed with a new id so the inbox does not know it.
    const forged = { ...release(), id: "forged-1" } as OperatorCommand;
    expect(await ops.handleCommand(forged)).toMatchObject({
      result: "unauthenticated",
      reason: "bad_signature",
    });
    // Or someone else's name on it.
    const signed = release();
    const impostor = {
      ...signed,
      data: { ...signed.data, operator: "someone@else.io" },
    } as OperatorCommand;
    expect((await ops.handleCommand(impostor)).reason).toBe("bad_signature");
    expect(await killSwitch()).toBe(true);
  });

  it("refuses a command signed by a key it was not given, and one with an unknown algorithm", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    const stranger = commandKeyPair("gw-test"); // same key id, different key
    const bySomeoneElse = signCommand(
      operatorCommand("operator.kill_switch.v1", { engaged: true }),
      stranger.privateKey,
      "gw-test",
    );
    expect((await ops.handleCommand(bySomeoneElse)).reason).toBe("bad_signature");
    const unknownKey = signCommand(
      operatorCommand("operator.kill_switch.v1", { engaged: true }),
      stranger.privateKey,
      "gw-old",
    );
    expect(await ops.handleCommand(unknownKey)).toMatchObject({
      result: "unauthenticated",
      reason: "unknown_key",
    });
    const hmac = { ...engage(), auth: { alg: "hs256", keyId: "gw-test", sig: "AAAA" } };
    expect((await ops.handleCommand(hmac as OperatorCommand)).reason).toBe("unsupported_alg");
    expect(await killSwitch()).toBe(false);
  });

  it("refuses commands older than the max age or dated beyond the clock skew", async () => {
    const clock = new Date("2026-11-24T12:00:00Z");
    const ops = operatorBuilder({
      db: handle.db,
      auth: { ...auth, maxAgeMs: 3_600_000, maxSkewMs: 60_000, clock: () => clock },
    });
    const at = (ms: number) => new Date(clock.getTime() + ms).toISOString();
    expect(await ops.handleCommand(engage({ time: at(-3_600_001) }))).toMatchObject({
      result: "unauthenticated",
      reason: "expired",
    });
    expect((await ops.handleCommand(engage({ time: at(60_001) }))).reason).toBe("from_the_future");
    expect(await killSwitch()).toBe(false);
    expect(await run(ops, engage({ time: at(-3_599_000) }))).toBe("applied");
    expect(await run(ops, release({ time: at(59_000) }))).toBe("applied");
  });

  it("with no keys configured refuses every command (least privilege)", async () => {
    const ops = operatorBuilder({ db: handle.db });
    expect(await ops.handleCommand(engage())).toMatchObject({
      result: "unauthenticated",
      reason: "no_keys_configured",
    });
    expect(await killSwitch()).toBe(false);
  });

  it("accepts either key while keys rotate", async () => {
    const next = commandKeyPair("gw-next");
    const ops = operatorBuilder({
      db: handle.db,
      auth: { keys: new Map([...auth.keys, [next.keyId, next.publicKey]]) },
    });
    expect(await run(ops, engage())).toBe("applied");
    const byNext = signCommand(
      operatorCommand("operator.kill_switch.v1", { engaged: false }),
      next.privateKey,
      next.keyId,
    );
    expect(await run(ops, byNext)).toBe("applied");
    expect(await killSwitch()).toBe(false);
  });

  it("a refused command does not use up its id: the genuine one with that id still applies", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    const genuine = engage({ id: "cmd-42" });
    const early = operatorCommand(
      "operator.kill_switch.v1",
      { engaged: false },
      "operator:global",
      {
        id: "cmd-42",
      },
    );
    expect(await run(ops, early)).toBe("unauthenticated");
    expect(await run(ops, genuine)).toBe("applied");
    expect(await run(ops, genuine)).toBe("duplicate");
    expect(await killSwitch()).toBe(true);
  });

  it("survives the trip through JSON, with schema defaults filled in by the consumer", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    // cadenceStep and delayDays are left to their defaults.
    const upsert = signCommand(
      operatorCommand("operator.playbook_upsert.v1", {
        variantId: "short_bump",
        channel: "email",
        angle: "bump",
        subjectTemplate: "{{firstName}}?",
        bodyTemplate: "Hi {{firstName}}, one line: worth a chat?",
      }),
      gateway.privateKey,
      gateway.keyId,
    );
    const received = OperatorCommand.parse(JSON.parse(JSON.stringify(upsert)));
    expect(await run(ops, received)).toBe("applied");
  });
});

describe("playbook upserts are checked before they can reach a lead", () => {
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  const upsert = (bodyTemplate: string, subjectTemplate = "Hi {{firstName}}") =>
    command("operator.playbook_upsert.v1", {
      variantId: "fresh_angle",
      channel: "email",
      angle: "fresh",
      subjectTemplate,
      bodyTemplate,
    });
  const stored = async () =>
    (await handle.db.select().from(schema.playbook)).find((v) => v.variantId === "fresh_angle");

  it.each([
    [
      "an unknown slot",
      "Hi {{firstName}}, your {{apiKey}}",
      /bodyTemplate: unknown slot \{\{apiKey\}\} \(allowed: firstName, company/,
    ],
    ["an inherited name", "{{constructor}}", /unknown slot \{\{constructor\}\}/],
    ["a malformed slot", "Hi {{ firstName }}", /bodyTemplate: malformed slot/],
    [
      "a template too long for any lead",
      `${"x".repeat(19_985)}{{painPoint}}`,
      /bodyTemplate: .*longer than 20000/,
    ],
  ])("refuses %s, naming it, and changes nothing", async (_name, body, why) => {
    const ops = operatorBuilder({ db: handle.db, auth });
    const outcome = await ops.handleCommand(upsert(body));
    expect(outcome.result).toBe("rejected");
    expect(outcome.reason).toMatch(why);
    expect(await stored()).toBeUndefined();
    expect(
      (await updates()).filter((u) => u.type === "experiment.playbook_changed.v1"),
    ).toHaveLength(0);
  });

  it("checks the subject too, and accepts a template of known slots", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    expect((await ops.handleCommand(upsert("Hi", "{{toString}}"))).reason).toMatch(
      /subjectTemplate: unknown slot \{\{toString\}\}/,
    );
    expect(await run(ops, upsert("Hi {{firstName}} at {{company}}"))).toBe("applied");
    expect((await stored())?.bodyTemplate).toBe("Hi {{firstName}} at {{company}}");
  });
});
