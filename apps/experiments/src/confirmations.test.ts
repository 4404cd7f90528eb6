// What the engine tells the rest of the system about operator commands and held
// decisions, on embedded PGlite: every command it acts on is confirmed on
// operator.command_results.v1 in the transaction that applies it (`applied` with what
// changed, `refused` with why); approval mode announces each held decision with the
// message exactly as it will be sent, and how each one ended (approved, rejected,
// withdrawn) on experiment.updates.v1.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import {
  type CommandResultV1,
  commandKeyPair,
  type DecisionHeldV1,
  type DecisionResolvedV1,
  type OutreachRequestedV1,
  signCommand,
} from "@pw/events";
import { asc } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { operatorCommand, outcome, scored } from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

const gateway = commandKeyPair("gw-test");
const auth = { keys: new Map([[gateway.keyId, gateway.publicKey]]) };
const command = (type: string, data: Record<string, unknown>, subject = "operator:global") =>
  signCommand(operatorCommand(type, data, subject), gateway.privateKey, gateway.keyId);

let handle: DbHandle;
const outbox = async <T>(type: string) =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  )
    .map((r) => r.payload as unknown as T & { type: string })
    .filter((p) => p.type === type);
const confirmations = () => outbox<CommandResultV1>("operator.command_result.v1");

beforeEach(async () => {
  handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  await seedPlaybook(handle.db);
}, 60_000);
afterEach(() => handle.close());

describe("the engine confirms operator commands", { timeout: 60_000 }, () => {
  it("applied with what changed, refused with why — once per command", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(3),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await engine.handleScored(scored("p1"));
    await engine.drain();
    const pause = command("operator.variant_command.v1", {
      action: "pause",
      variantId: "roi",
      segment: "exec-mid",
    });
    expect((await ops.handleCommand(pause)).result).toBe("applied");
    expect((await ops.handleCommand(pause)).result).toBe("duplicate");
    const again = command("operator.variant_command.v1", { action: "pause", variantId: "roi" });
    expect((await ops.handleCommand(again)).result).toBe("ignored");
    const unsigned = operatorCommand("operator.kill_switch.v1", { engaged: true });
    expect((await ops.handleCommand(unsigned)).result).toBe("unauthenticated");

    expect((await confirmations()).map((c) => [c.data.commandId, c.data])).toEqual([
      [
        pause.id,
        expect.objectContaining({
          service: "experiments",
          commandType: "operator.variant_command.v1",
          result: "applied",
          detail: "variant roi paused in exec-mid",
        }),
      ],
      [
        again.id,
        expect.objectContaining({
          result: "refused",
          reason: "no_change",
          detail: "variant roi is not active in any segment: nothing to pause",
        }),
      ],
      [
        unsigned.id,
        expect.objectContaining({
          result: "refused",
          reason: "unsigned",
          detail: "not verified (unsigned): the command carries no signature",
        }),
      ],
    ]);
    // The refusal did not touch the inbox: the genuine command with that id still applies.
    expect(
      (await ops.handleCommand(signCommand(unsigned, gateway.privateKey, gateway.keyId))).result,
    ).toBe("applied");
  });

  it("a template the engine cannot render is refused naming the slot", async () => {
    const ops = operatorBuilder({ db: handle.db, auth });
    const upsert = command("operator.playbook_upsert.v1", {
      variantId: "bad",
      channel: "email",
      angle: "x",
      subjectTemplate: "Hi {{ceo}}",
      bodyTemplate: "b",
    });
    expect((await ops.handleCommand(upsert)).result).toBe("rejected");
    const [refusal] = await confirmations();
    expect(refusal!.data).toMatchObject({
      result: "refused",
      reason: "invalid_template",
      detail: expect.stringMatching(/^subjectTemplate: unknown slot \{\{ceo\}\}/),
    });
  });
});

describe("held decisions are announced", { timeout: 60_000 }, () => {
  it("with the exact message; approval, rejection and withdrawal each end one, confirmed", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(7),
    });
    const ops = operatorBuilder({ db: handle.db, auth });
    await ops.handleCommand(command("operator.approval_mode.v1", { enabled: true }));
    for (const id of ["h1", "h2", "h3", "h4"]) await engine.handleScored(scored(id));
    expect(await engine.drain()).toMatchObject({ pendingApproval: 4 });

    const held = await outbox<DecisionHeldV1>("experiment.decision_held.v1");
    expect(held.map((h) => h.subject).sort()).toEqual(["h1", "h2", "h3", "h4"]);
    const h1 = held.find((h) => h.subject === "h1")!;
    expect(h1.data.lead).toEqual({ firstName: "Ada", company: "Acme" });
    expect(h1.data.request).toMatchObject({
      to: "h1@acme.io",
      segment: "exec-mid",
      subject: expect.any(String),
      body: expect.stringContaining("Ada"),
    });
    const requestOf = (lead: string) =>
      held.find((h) => h.subject === lead)!.data.request.requestId;

    const approve = command("operator.approval_decision.v1", {
      requestId: requestOf("h1"),
      decision: "approve",
    });
    await ops.handleCommand(approve);
    await ops.handleCommand(
      command("operator.approval_decision.v1", {
        requestId: requestOf("h2"),
        decision: "reject",
        reason: "tone is off",
      }),
    );
    await ops.handleCommand(command("operator.lead_command.v1", { action: "suppress" }, "h3"));
    await engine.handleOutcome(outcome("h4", "unsubscribed", new Date()));

    // What goes to dispatch on approval is the message the queue showed.
    const [sent] = await outbox<OutreachRequestedV1>("outreach.requested.v1");
    expect(sent!.data).toMatchObject({
      requestId: requestOf("h1"),
      subject: h1.data.request.subject,
      body: h1.data.request.body,
      to: h1.data.request.to,
    });
    const resolved = await outbox<DecisionResolvedV1>("experiment.decision_resolved.v1");
    expect(resolved.map((r) => [r.subject, r.data.resolution, r.data.by, r.data.reason])).toEqual([
      ["h1", "approved", "ops@acme.io", "approved by ops@acme.io"],
      ["h2", "rejected", "ops@acme.io", "tone is off"],
      ["h3", "withdrawn", "ops@acme.io", "the lead was suppressed"],
      ["h4", "withdrawn", "engine", "the lead opted out (unsubscribed)"],
    ]);
    const confirmed = (await confirmations()).find((c) => c.data.commandId === approve.id);
    expect(confirmed?.data).toMatchObject({
      result: "applied",
      detail: `request ${requestOf("h1")} for lead h1 (${h1.data.request.variantId} in exec-mid) approved: sent to dispatch`,
    });
    // An approval that comes too late is refused, saying why.
    const late = command("operator.approval_decision.v1", {
      requestId: requestOf("h3"),
      decision: "approve",
    });
    await ops.handleCommand(late);
    expect((await confirmations()).find((c) => c.data.commandId === late.id)?.data).toMatchObject({
      result: "refused",
      reason: "not_pending",
    });
    expect(
      (await handle.db.select().from(schema.decisions)).filter(
        (d) => d.state === "pending_approval",
      ),
    ).toHaveLength(0);
  });
});
