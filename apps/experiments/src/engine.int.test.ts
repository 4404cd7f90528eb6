// Two engine instances on one real PostgreSQL (as two members of a consumer
// group after a rebalance would be): every event delivered to both, concurrently
// — posterior counts stay exact.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate, schema } from "@pw/db";
import { postgresFixture, type TestDatabase } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outcome, scored } from "../test/fixtures.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";

const pg = await postgresFixture();

describe.runIf(pg)("experiment engine on PostgreSQL", () => {
  let database: TestDatabase;
  let a: DbHandle;
  let b: DbHandle;
  beforeAll(async () => {
    database = await pg!.createDatabase("pw_experiments");
    a = await createDb({ driver: "pg", url: database.url });
    b = await createDb({ driver: "pg", url: database.url });
    await migrate(a);
    await seedPlaybook(a.db);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it("two instances handling the same events at once never lose or double-count an update", async () => {
    const clock = () => new Date("2026-11-24T12:00:00Z");
    const e1 = engineBuilder({ db: a.db, rng: seededRng(1), now: clock });
    const e2 = engineBuilder({ db: b.db, rng: seededRng(2), now: clock });
    const leads = Array.from({ length: 200 }, (_, i) =>
      scored(`lead-${i}`, { segment: i % 2 ? "exec-mid" : "manager-smb" }),
    );
    // Each scored event delivered to both instances concurrently (a redelivery race).
    const decided = await Promise.all(
      leads.flatMap((e) => [e1.handleScored(e), e2.handleScored(e)]),
    );
    expect(decided.filter((d) => d === "requested")).toHaveLength(200);
    const decisions = await a.db.select().from(schema.decisions);
    expect(decisions).toHaveLength(200);
    const armRows = await a.db.select().from(schema.arms);
    expect(armRows.reduce((n, r) => n + r.exposures, 0)).toBe(200);

    // Rewards for every third decision, each outcome delivered twice to each instance.
    const rewards = decisions
      .filter((_, i) => i % 3 === 0)
      .map((d) => outcome(d.leadId, "meeting_booked", clock(), d.requestId));
    const results = await Promise.all(
      rewards.flatMap((o) => [
        e1.handleOutcome(o),
        e2.handleOutcome(o),
        e1.handleOutcome(o),
        e2.handleOutcome(o),
      ]),
    );
    expect(results.filter((r) => r === "rewarded")).toHaveLength(rewards.length);
    const after = await a.db.select().from(schema.arms);
    expect(after.reduce((n, r) => n + r.successes, 0)).toBe(rewards.length);
    // Per arm, successes equal that arm's rewarded decisions.
    const rewardedByArm = new Map<string, number>();
    const settled = await a.db.select().from(schema.decisions);
    for (const d of settled.filter((x) => x.rewarded))
      rewardedByArm.set(
        `${d.segment}/${d.variantId}`,
        (rewardedByArm.get(`${d.segment}/${d.variantId}`) ?? 0) + 1,
      );
    for (const r of after)
      expect(r.successes, `${r.segment}/${r.variantId}`).toBe(
        rewardedByArm.get(`${r.segment}/${r.variantId}`) ?? 0,
      );
  });
});
