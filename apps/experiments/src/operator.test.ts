// Operator overrides and the engine's own suppression, on embedded PGlite.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { envelope, type OperatorCommand } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scored } from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

let handle: DbHandle;
const command = (type: string, data: Record<string, unknown>, subject = "operator:global") =>
  envelope({
    type,
    source: "pw://gateway",
    subject,
    data: { operator: "ops@acme.io", ...data },
  }) as OperatorCommand;
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
    const ops = operatorBuilder({ db: handle.db });
    expect(
      await ops.handleCommand(
        command("operator.kill_switch.v1", { engaged: true, reason: "bad copy" }),
      ),
    ).toBe("applied");
    expect(await engine.handleScored(scored("k1"))).toBe("queued");
    expect(await engine.drain()).toMatchObject({ requested: 0, waiting: 1 });
    expect(await requests()).toHaveLength(0);
    await ops.handleCommand(command("operator.kill_switch.v1", { engaged: false }));
    expect(await engine.drain()).toMatchObject({ requested: 1, waiting: 0 });
    expect((await requests()).map((r) => r.subject)).toEqual(["k1"]);
  });

  it("approval mode holds decisions for an operator: approve sends, reject does not, an opt-out withdraws", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(7),
    });
    const ops = operatorBuilder({ db: handle.db });
    await ops.handleCommand(command("operator.approval_mode.v1", { enabled: true }));
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
    expect(await ops.handleCommand(approve)).toBe("applied");
    expect(await ops.handleCommand(approve)).toBe("duplicate");
    expect(
      await ops.handleCommand(
        command("operator.approval_decision.v1", { requestId: id("a1"), decision: "approve" }),
      ),
    ).toBe("ignored"); // already decided
    expect(
      await ops.handleCommand(
        command("operator.approval_decision.v1", {
          requestId: id("a2"),
          decision: "reject",
          reason: "competitor",
        }),
      ),
    ).toBe("applied");
    await ops.handleCommand(
      command("operator.lead_command.v1", { action: "do_not_contact" }, "a3"),
    );
    expect(
      await ops.handleCommand(
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
    const ops = operatorBuilder({ db: handle.db });
    await ops.handleCommand(command("operator.lead_command.v1", { action: "suppress" }, "s1"));
    expect(await engine.handleScored(scored("s1"))).toBe("skipped");
    expect(
      await ops.handleCommand(command("operator.lead_command.v1", { action: "unsuppress" }, "s1")),
    ).toBe("applied");
    expect(await engine.handleScored(scored("s1"))).toBe("queued");
    await ops.handleCommand(
      command("operator.lead_command.v1", { action: "do_not_contact" }, "d1"),
    );
    expect(
      await ops.handleCommand(command("operator.lead_command.v1", { action: "unsuppress" }, "d1")),
    ).toBe("ignored");
    await ops.handleCommand(command("operator.lead_command.v1", { action: "suppress" }, "d1"));
    expect(await engine.handleScored(scored("d1"))).toBe("skipped");
    await engine.handleScored(scored("big", { score: 99 }));
    expect(
      await ops.handleCommand(command("operator.lead_command.v1", { action: "prioritise" }, "s1")),
    ).toBe("applied");
    await engine.drain();
    expect((await requests()).map((r) => r.subject)).toEqual(["s1"]);
  });

  it("playbook edits by command: a new variant joins the experiment, a retired one leaves it, both announced", async () => {
    const engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(9),
    });
    const ops = operatorBuilder({ db: handle.db });
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
    expect(await ops.handleCommand(upsert)).toBe("applied");
    expect(
      await ops.handleCommand(command("operator.playbook_retire.v1", { variantId: "pain_point" })),
    ).toBe("applied");
    expect(
      await ops.handleCommand(command("operator.playbook_retire.v1", { variantId: "pain_point" })),
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
    const ops = operatorBuilder({ db: handle.db });
    await engine.handleScored(scored("p0"));
    await engine.drain(); // creates the segment's arms
    expect(
      await ops.handleCommand(
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
      await ops.handleCommand(
        command("operator.variant_command.v1", { action: "revive", variantId: "roi" }),
      ),
    ).toBe("ignored");
    expect(
      await ops.handleCommand(
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
    const ops = operatorBuilder({ db: handle.db });
    await engine.handleScored(scored("s0"));
    await engine.drain();
    // Evidence as if 400 sends each had been settled: case_study converts far better.
    const rates: Record<string, number> = {
      pain_point: 0.01,
      social_proof: 0.04,
      roi: 0.04,
      short_question: 0.04,
      case_study: 0.09,
    };
    for (const [variantId, rate] of Object.entries(rates)) {
      await handle.db
        .update(schema.arms)
        .set({ exposures: 400, successes: 400 * rate, failures: 400 * (1 - rate) })
        .where(eq(schema.arms.variantId, variantId));
    }
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
      await ops.handleCommand(
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
