// Set-based decisions on a real PostgreSQL (ADR 0016): concurrent grants never spend more
// than the day holds, and two instances deciding whole batches at once — each batch one
// transaction, racing for the same leads and the same capacity — send each lead once and
// exactly the day's capacity, with every counter agreeing.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { postgresFixture, type TestDatabase } from "@pw/testkit";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scored } from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { grantCapacity } from "./store.ts";

const pg = await postgresFixture();

describe.runIf(pg)("set-based decisions on PostgreSQL", () => {
  let database: TestDatabase;
  let a: DbHandle;
  let b: DbHandle;
  beforeAll(async () => {
    database = await pg!.createDatabase("pw_exp_batch");
    a = await createDb({ driver: "pg", url: database.url, maxConnections: 20 });
    b = await createDb({ driver: "pg", url: database.url });
    await migrate(a);
    await seedPlaybook(a.db);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it("grants asked for at once, in open transactions, add up to the day's capacity and no more", async () => {
    const grants = await Promise.all(
      Array.from({ length: 20 }, () =>
        a.db.transaction(async (tx) => {
          const k = await grantCapacity(tx, "2026-10-01", 7, 100);
          // Held open: the next grant must wait for this one's commit, not read past it.
          await tx.execute(sql`select pg_sleep(0.01)`);
          return k;
        }),
      ),
    );
    expect(grants.reduce((n, k) => n + k, 0)).toBe(100);
    expect(grants.filter((k) => k > 0 && k < 7)).toEqual([2]); // 14 × 7, then what was left
    const [day] = await a.db
      .select()
      .from(schema.sendCapacity)
      .where(eq(schema.sendCapacity.day, "2026-10-01"));
    expect(day!.used).toBe(100);
  });

  it("two instances deciding whole batches for the same leads at once send each lead once, and exactly the day's capacity", async () => {
    const clock = () => new Date("2026-10-02T09:00:00Z");
    const settings = {
      ...defaultEngineSettings(),
      capacity: { ...defaultEngineSettings().capacity, perDay: 120 },
    };
    const e1 = engineBuilder({ db: a.db, settings, rng: seededRng(11), now: clock });
    const e2 = engineBuilder({ db: b.db, settings, rng: seededRng(12), now: clock });
    for (let i = 0; i < 300; i++)
      await e1.handleScored(
        scored(`race-${i}`, { score: 40 + (i % 60), segment: i % 3 ? "exec-mid" : "smb" }),
      );
    let requested = 0;
    for (let round = 0; round < 3; round++) {
      const [r1, r2] = await Promise.all([e1.drain(500), e2.drain(500)]);
      requested += r1.requested + r2.requested;
    }
    expect(requested).toBe(120);
    const decisions = await a.db.select().from(schema.decisions);
    expect(new Set(decisions.map((d) => d.leadId)).size).toBe(120);
    expect(decisions).toHaveLength(120);
    const outbox = await a.db.select().from(schema.experimentsOutbox);
    const sent = outbox.filter((r) => r.topic === "outreach.requested.v1").map((r) => r.key);
    expect(new Set(sent).size).toBe(120);
    expect(sent).toHaveLength(120);
    const arms = await a.db.select().from(schema.arms);
    expect(arms.reduce((n, r) => n + r.exposures, 0)).toBe(120);
    const [day] = await a.db
      .select()
      .from(schema.sendCapacity)
      .where(eq(schema.sendCapacity.day, "2026-10-02"));
    expect(day!.used).toBe(120);
    // Every lead claimed has its decision; the rest wait, none half-claimed.
    const queue = await a.db.select().from(schema.queue);
    const decided = new Set(decisions.map((d) => d.leadId));
    expect(queue.filter((q) => q.status === "requested").every((q) => decided.has(q.leadId))).toBe(
      true,
    );
    expect(queue.filter((q) => q.status === "queued")).toHaveLength(180);
  });
});
