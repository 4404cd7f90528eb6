// The first write of a lead on a real PostgreSQL: a lead event and an outcome for a
// lead nobody has seen yet, handled at the same time as the service handles them
// (lead events in partition batches, outcomes one by one), must both land.
import { createDb, type DbHandle, migrate, queryRows } from "@pw/db";
import * as schema from "@pw/db/scoring";
import type { LeadEvent, OutreachOutcome } from "@pw/events";
import { postgresFixture, type TestDatabase, waitFor } from "@pw/testkit";
import { inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crmEvent, outcomeEvent } from "../test/fixtures.ts";
import { ensureInitialModel } from "./model-store.ts";
import { scoringServiceBuilder } from "./service.ts";

const pg = await postgresFixture();

describe.runIf(pg)("the first write of a new lead under concurrency (PostgreSQL)", () => {
  let database: TestDatabase;
  let handle: DbHandle;
  beforeAll(async () => {
    database = await pg!.createDatabase("pw_scoring_race");
    handle = await createDb({ driver: "pg", url: database.url, maxConnections: 20 });
    await migrate(handle);
    await ensureInitialModel(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  /** Transactions queued for the table lock on `scoring.leads`. */
  const waiting = async () => {
    const [row] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(distinct pid)::int as n from pg_locks
          where not granted and relation = 'scoring.leads'::regclass`,
    );
    return row!.n;
  };

  /**
   * Runs `work` while `scoring.leads` takes no writes (SHARE lock: reads and
   * `select … for update` go on, inserts and updates wait), and lets the writes
   * go only once all `expected` transactions are waiting: every handler has read
   * its lead before any has written one — the worst interleaving, every time,
   * instead of whatever the scheduler happens to give.
   */
  async function raced(expected: number, work: () => Promise<unknown>[]) {
    let release!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const isLocked = new Promise<void>((r) => (locked = r));
    const locker = handle.db.transaction(async (tx) => {
      await tx.execute(sql`lock table scoring.leads in share mode`);
      locked();
      await held;
    });
    await isLocked;
    const running = Promise.all(work());
    try {
      await waitFor(async () => (await waiting()) >= expected, {
        timeoutMs: 20_000,
        message: `${expected} transactions waiting to write scoring.leads`,
      });
    } finally {
      release();
      await locker;
    }
    return running;
  }

  it("keeps both the lead event and the outcome for each of 50 new leads raced together", async () => {
    const service = scoringServiceBuilder({ db: handle.db });
    const leads = Array.from({ length: 50 }, (_, i) => `race-${i}`);
    const at = new Date(Date.now() - 60_000).toISOString();
    const crm = leads.map((id) =>
      crmEvent(id, at, { firstName: "Ada", title: "VP Sales", industry: "SaaS" }),
    );
    const outcomes = leads.map((id) => outcomeEvent(id, "opened", at) as OutreachOutcome);
    // Rounds of 10 leads: their lead events in two batches of 5 (a partition's run,
    // as the service batches them), their outcomes one at a time — 12 transactions.
    for (let i = 0; i < leads.length; i += 10) {
      await raced(12, () => [
        service.handleLeadEvents(crm.slice(i, i + 5) as LeadEvent[]),
        service.handleLeadEvents(crm.slice(i + 5, i + 10) as LeadEvent[]),
        ...outcomes.slice(i, i + 10).map((o) => service.handleOutcome(o)),
      ]);
    }

    const rows = await handle.db
      .select()
      .from(schema.leads)
      .where(inArray(schema.leads.leadId, leads));
    const lost = rows.filter(
      (r) => r.profile.firstName?.value !== "Ada" || r.engagement.opened !== 1,
    );
    expect(rows).toHaveLength(50);
    expect(
      lost.map(
        (r) =>
          `${r.leadId}: profile ${Object.keys(r.profile).join(",") || "{}"}, engagement ${JSON.stringify(r.engagement)}`,
      ),
    ).toEqual([]);
    // Two writes each: neither overwrote the other's version.
    expect(rows.filter((r) => r.version !== 2).map((r) => r.leadId)).toEqual([]);
    expect(await handle.db.$count(schema.scoringInbox)).toBe(100);
  });
});
