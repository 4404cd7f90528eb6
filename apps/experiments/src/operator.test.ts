// Operator overrides and the engine's own suppression, on embedded PGlite.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate, schema } from "@pw/db";
import { envelope, type OperatorCommand } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scored } from "../test/fixtures.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
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

  it("the kill switch stops all new outreach at once, and releasing it resumes", async () => {
    const engine = engineBuilder({ db: handle.db, rng: seededRng(1) });
    const ops = operatorBuilder({ db: handle.db });
    expect(
      await ops.handleCommand(
        command("operator.kill_switch.v1", { engaged: true, reason: "bad copy" }),
      ),
    ).toBe("applied");
    expect(await engine.handleScored(scored("k1"))).toBe("skipped");
    await ops.handleCommand(command("operator.kill_switch.v1", { engaged: false }));
    expect(await engine.handleScored(scored("k2"))).toBe("requested");
  });

  it("pauses a variant (no traffic, announced), resumes it; revive only lifts a suppression", async () => {
    const engine = engineBuilder({ db: handle.db, rng: seededRng(2) });
    const ops = operatorBuilder({ db: handle.db });
    await engine.handleScored(scored("p0")); // creates the segment's arms
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
    const engine = engineBuilder({ db: handle.db, rng: seededRng(3) });
    const ops = operatorBuilder({ db: handle.db });
    await engine.handleScored(scored("s0"));
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
    for (let i = 0; i < 3; i++)
      suppressedAll.push(
        ...(await engine.review({ minExposures: 300, threshold: 0.05, consecutiveChecks: 3 })),
      );
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
