// Two engine instances on one real PostgreSQL (as two members of a consumer
// group after a rebalance would be): every event delivered to both, both draining
// the queue at once — each lead requested once, capacity never overspent,
// posterior counts exact.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { postgresFixture, type TestDatabase, waitFor } from "@pw/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outcome, scored } from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";

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
    const settings = defaultEngineSettings();
    const e1 = engineBuilder({ db: a.db, settings, rng: seededRng(1), now: clock });
    const e2 = engineBuilder({ db: b.db, settings, rng: seededRng(2), now: clock });
    const leads = Array.from({ length: 200 }, (_, i) =>
      scored(`lead-${i}`, { segment: i % 2 ? "exec-mid" : "manager-smb" }),
    );
    // Each scored event delivered to both instances concurrently (a redelivery race).
    const queued = await Promise.all(
      leads.flatMap((e) => [e1.handleScored(e), e2.handleScored(e)]),
    );
    expect(queued.filter((d) => d === "queued")).toHaveLength(200);
    expect(queued.filter((d) => d === "duplicate")).toHaveLength(200);
    // Both instances drain at once, in small steps, racing for the same leads.
    const drained = await Promise.all([
      (async () => {
        let n = 0;
        for (let i = 0; i < 20; i++) n += (await e1.drain(15)).requested;
        return n;
      })(),
      (async () => {
        let n = 0;
        for (let i = 0; i < 20; i++) n += (await e2.drain(15)).requested;
        return n;
      })(),
    ]);
    expect(drained[0] + drained[1]).toBe(200);
    const decisions = await a.db.select().from(schema.decisions);
    expect(decisions).toHaveLength(200);
    expect(new Set(decisions.map((d) => d.leadId)).size).toBe(200);
    const outbox = await a.db.select().from(schema.experimentsOutbox);
    expect(outbox.filter((r) => r.topic.startsWith("outreach.requested"))).toHaveLength(200);
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

  it("two instances draining at once never spend more than the day's capacity", async () => {
    const clock = () => new Date("2026-11-26T09:00:00Z");
    const settings = {
      ...defaultEngineSettings(),
      capacity: { ...defaultEngineSettings().capacity, perDay: 37 },
    };
    // Instance 2 writes slowly (a vendor rewrite): while it works through the leads it
    // picked, instance 1 picks newer, higher-intent ones — both want the same capacity.
    let written = 0;
    const slow = {
      write: async (input: { variant: { subjectTemplate: string } }) => {
        written++;
        await new Promise((r) => setTimeout(r, 15));
        return { subject: input.variant.subjectTemplate, body: "b", writer: "template" as const };
      },
    };
    const e1 = engineBuilder({ db: a.db, settings, rng: seededRng(3), now: clock });
    const e2 = engineBuilder({
      db: b.db,
      rng: seededRng(4),
      now: clock,
      settings,
      copywriter: slow,
    });
    for (let i = 0; i < 60; i++) await e1.handleScored(scored(`cap-${i}`, { score: 20 + i }));
    const second = e2.drain();
    // Instance 2 is inside its drain (writing copy) before the newer leads arrive.
    await waitFor(() => written >= 2, { message: "instance 2 to be deciding" });
    for (let i = 0; i < 30; i++) await e1.handleScored(scored(`late-${i}`, { score: 95 }));
    const first = await e1.drain();
    const r2 = await second;
    expect(first.requested).toBeGreaterThan(0);
    expect(r2.requested).toBeGreaterThan(0);
    expect(first.requested + r2.requested).toBe(37);
    const [used] = await a.db
      .select()
      .from(schema.sendCapacity)
      .where(eq(schema.sendCapacity.day, "2026-11-26"));
    expect(used).toEqual({ day: "2026-11-26", used: 37 });
    const queue = await a.db.select().from(schema.queue);
    const requestedLeads = queue.filter(
      (q) => q.status === "requested" && /^(cap|late)-/.test(q.leadId),
    );
    expect(requestedLeads).toHaveLength(37);
    expect(queue.filter((q) => q.status === "queued")).toHaveLength(90 - 37);
  });
});
