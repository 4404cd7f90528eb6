// Operator commands on PGlite + the in-process bus: each kind reaches operator.commands.v1
// exactly once, signed by the gateway's key, in the signed-in operator's name, with one
// audit row (published, same command id); bad bodies name the field; without signing keys
// every command is 503; the audit log pages; the playbook preview names an unknown slot.
import * as schema from "@pw/db/gateway";
import { type OperatorCommand, verifyCommand } from "@pw/events";
import { waitFor } from "@pw/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestSession, testGateway } from "../test/auth-helpers.ts";
import { recordCommandResult } from "./commands/index.ts";

const KINDS: {
  kind: string;
  body: Record<string, unknown>;
  type: string;
  subject: string;
  data: Record<string, unknown>;
}[] = [
  {
    kind: "variant",
    body: { action: "pause", variantId: "roi", segment: "exec-mid", reason: "bad week" },
    type: "operator.variant_command.v1",
    subject: "operator:global",
    data: { action: "pause", variantId: "roi", segment: "exec-mid", reason: "bad week" },
  },
  {
    kind: "lead",
    body: { leadId: "lead-42", action: "do_not_contact" },
    type: "operator.lead_command.v1",
    subject: "lead-42",
    data: { action: "do_not_contact" },
  },
  {
    kind: "kill-switch",
    body: { engaged: true, reason: "incident" },
    type: "operator.kill_switch.v1",
    subject: "operator:global",
    data: { engaged: true, reason: "incident" },
  },
  {
    kind: "approval-mode",
    body: { enabled: false },
    type: "operator.approval_mode.v1",
    subject: "operator:global",
    data: { enabled: false },
  },
  {
    kind: "approval",
    body: { requestId: "req-7", decision: "reject", note: "tone is off" },
    type: "operator.approval_decision.v1",
    subject: "operator:global",
    data: { requestId: "req-7", decision: "reject", reason: "tone is off" },
  },
  {
    kind: "playbook-upsert",
    body: {
      variantId: "warm_intro",
      channel: "email",
      angle: "warm",
      subjectTemplate: "{{firstName}}, a thought for {{company}}",
      bodyTemplate: "Hi {{firstName}}, since you {{trigger}} …",
    },
    type: "operator.playbook_upsert.v1",
    subject: "operator:global",
    data: { variantId: "warm_intro", cadenceStep: 0, delayDays: 0 },
  },
  {
    kind: "playbook-retire",
    body: { variantId: "warm_intro" },
    type: "operator.playbook_retire.v1",
    subject: "operator:global",
    data: { variantId: "warm_intro" },
  },
];

let gw: TestGateway;
let admin: TestSession;
beforeAll(async () => {
  gw = await testGateway();
  admin = await gw.session("grace@acme.io", "admin");
}, 60_000);
afterAll(() => gw?.stop());

const command = (s: TestSession, kind: string, payload: unknown) =>
  gw.as(s, { method: "POST", url: `/api/commands/${kind}`, payload: payload as object });

describe("operator commands", () => {
  it("each kind: 202, one signed message on operator.commands.v1 in the operator's name, one audit row with the same id", async () => {
    const keys = new Map([[gw.keys.keyId, gw.keys.publicKey]]);
    const ids: string[] = [];
    for (const k of KINDS) {
      const res = await command(admin, k.kind, k.body);
      expect(res.statusCode, `${k.kind}: ${res.body}`).toBe(202);
      const { commandId, auditId } = res.json() as { commandId: string; auditId: number };
      ids.push(commandId);
      const message = (await waitFor(() => gw.published.find((c) => c.id === commandId), {
        timeoutMs: 10_000,
        message: `${k.kind} on the topic`,
      })) as OperatorCommand;
      expect(message).toMatchObject({ type: k.type, subject: k.subject, source: "pw://gateway" });
      expect(message.data).toMatchObject({ ...k.data, operator: "grace@acme.io" });
      expect(message.auth).toMatchObject({ alg: "ed25519", keyId: "gw-test" });
      expect(
        verifyCommand(message, { keys, now: new Date(), maxAgeMs: 60_000, maxSkewMs: 60_000 }),
      ).toEqual({ ok: true, keyId: "gw-test" });
      // Tampering with the operator's name breaks the signature.
      const forged = {
        ...message,
        data: { ...message.data, operator: "mallory" },
      } as OperatorCommand;
      expect(
        verifyCommand(forged, { keys, now: new Date(), maxAgeMs: 60_000, maxSkewMs: 60_000 }).ok,
      ).toBe(false);

      const rows = await gw.db.db
        .select()
        .from(schema.auditLog)
        .where(eq(schema.auditLog.commandId, commandId));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: auditId,
        commandType: k.type,
        operator: "grace@acme.io",
        role: "admin",
        subject: k.subject,
        result: "published",
      });
    }
    // Exactly once each, nothing else: the relay has drained and nothing is left behind.
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.published.map((c) => c.id).sort()).toEqual([...ids].sort());
    const pending = await gw.db.db.select().from(schema.gatewayOutbox);
    expect(pending.every((r) => r.publishedAt !== null)).toBe(true);
  });

  it("the operator named is always the signed-in user, whatever the body says", async () => {
    const op = await gw.session("olga", "operator");
    const res = await command(op, "kill-switch", { engaged: false, operator: "grace@acme.io" });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/operator|Unrecognized/i);
    const ok = await command(op, "kill-switch", { engaged: false });
    const { commandId } = ok.json();
    const message = await waitFor(() => gw.published.find((c) => c.id === commandId), {
      timeoutMs: 10_000,
    });
    expect(message!.data.operator).toBe("olga");
  });

  it("a bad body is 400 naming the field, and nothing is published or audited", async () => {
    const before = gw.published.length;
    const audited = (await gw.db.db.select().from(schema.auditLog)).length;
    const cases: [string, unknown, RegExp][] = [
      ["variant", { action: "explode", variantId: "roi" }, /action/],
      ["variant", { action: "pause" }, /variantId/],
      ["lead", { leadId: "bad id with spaces", action: "suppress" }, /leadId/],
      ["kill-switch", { engaged: "yes" }, /engaged/],
      ["approval", { requestId: "r", decision: "maybe" }, /decision/],
      [
        "playbook-upsert",
        {
          variantId: "x",
          channel: "email",
          angle: "a",
          subjectTemplate: "{{ceo}}",
          bodyTemplate: "b",
        },
        /subjectTemplate: unknown slot \{\{ceo\}\}/,
      ],
      ["playbook-retire", {}, /variantId/],
    ];
    for (const [kind, body, field] of cases) {
      const res = await command(admin, kind, body);
      expect(res.statusCode, kind).toBe(400);
      expect(res.json()).toMatchObject({ error: "invalid_body" });
      expect(res.json().message).toMatch(field);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(gw.published.length).toBe(before);
    expect((await gw.db.db.select().from(schema.auditLog)).length).toBe(audited);
  });

  it("lists the audit log newest first, in pages, and records a service's confirmation once", async () => {
    const first = await gw.as(admin, { method: "GET", url: "/api/audit?limit=2" });
    expect(first.statusCode).toBe(200);
    const page = first.json() as {
      items: { id: number; commandId: string; result: string }[];
      nextCursor: string;
    };
    expect(page.items).toHaveLength(2);
    expect(page.items[0]!.id).toBeGreaterThan(page.items[1]!.id);
    const next = await gw.as(admin, {
      method: "GET",
      url: `/api/audit?limit=2&cursor=${page.nextCursor}`,
    });
    expect(next.json().items[0].id).toBeLessThan(page.items[1]!.id);
    expect((await gw.as(admin, { method: "GET", url: "/api/audit?limit=0" })).statusCode).toBe(400);

    const id = page.items[0]!.commandId;
    expect(await recordCommandResult(gw.db.db, id, "refused", "bad_signature")).toBe(true);
    expect(await recordCommandResult(gw.db.db, id, "applied")).toBe(false); // the first answer stands
    expect(await recordCommandResult(gw.db.db, "no-such-command", "applied")).toBe(false);
    const [row] = await gw.db.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.commandId, id));
    expect(row).toMatchObject({ result: "refused", detail: "bad_signature" });
    expect(row!.resultAt).toBeInstanceOf(Date);
  });

  it("previews a template for a sample lead, and names an unknown slot as a 400", async () => {
    const preview = (payload: unknown) =>
      gw.as(admin, { method: "POST", url: "/api/playbook/preview", payload: payload as object });
    const ok = await preview({
      subjectTemplate: "{{company}} and {{painPoint}}",
      bodyTemplate: "Hi {{firstName}}, as {{role}} in {{industry}}",
      sample: { firstName: "Lin", company: "" },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      subject: "your team and slow follow-up",
      body: "Hi Lin, as VP Engineering in SaaS",
      slots: ["company", "painPoint", "firstName", "role", "industry"],
    });
    const unknown = await preview({ subjectTemplate: "ok", bodyTemplate: "Hi {{email}}" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().issues).toEqual([
      { field: "bodyTemplate", message: expect.stringMatching(/unknown slot \{\{email\}\}/) },
    ]);
    const malformed = await preview({ subjectTemplate: "{{ firstName }}", bodyTemplate: "x" });
    expect(malformed.json().message).toMatch(/subjectTemplate: malformed slot/);
  });

  it("reports command_signing ok in readiness", async () => {
    const ready = await gw.app.inject({ method: "GET", url: "/readyz" });
    expect(JSON.stringify(ready.json())).toMatch(/command_signing/);
    expect(ready.json()).toMatchObject({ status: "ready" });
  });
});

describe("without signing keys", { timeout: 60_000 }, () => {
  it("every command answers 503 and readiness says not_configured", async () => {
    const bare = await testGateway({}, { signing: false });
    try {
      const s = await bare.session("ada", "admin");
      for (const k of KINDS) {
        const res = await bare.as(s, {
          method: "POST",
          url: `/api/commands/${k.kind}`,
          payload: k.body,
        });
        expect(res.statusCode).toBe(503);
        expect(res.json().error).toBe("command signing not configured");
      }
      expect(await bare.db.db.select().from(schema.auditLog)).toHaveLength(0);
      const ready = await bare.app.inject({ method: "GET", url: "/readyz" });
      expect(JSON.stringify(ready.json())).toMatch(/command_signing[^}]*not_configured/);
    } finally {
      await bare.stop();
    }
  });
});
