/**
 * The repository suite both drivers must pass: PGlite as a unit test, real
 * PostgreSQL as an integration test. Same migrations, same code, same answers.
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, queryRows } from "./client.ts";
import { markProcessed } from "./inbox.ts";
import { MIGRATIONS_FOLDER, migrate } from "./migrate.ts";
import { enqueue, outboxStats } from "./outbox.ts";
import { leads, scoringInbox, scoringOutbox } from "./schema/scoring.ts";

export type DbTarget = { open(): Promise<DbHandle>; cleanup?(): Promise<void> };

// An envelope whose data carries the test's sequence number (the outbox never reads `data`).
const event = (key: string, n: number) => {
  const eventId = randomUUID();
  return {
    eventId,
    topic: "lead.scored.v1",
    key,
    payload: {
      specversion: "1.0" as const,
      id: eventId,
      source: "pw://db-test",
      time: new Date().toISOString(),
      subject: key,
      datacontenttype: "application/json" as const,
      type: "lead.scored.v1",
      data: { n },
    },
    headers: { "ce-type": "lead.scored.v1" },
  };
};

export function dbSuite(name: string, target: () => DbTarget) {
  describe(`db suite: ${name}`, () => {
    let handle: DbHandle;
    let t: DbTarget;
    beforeAll(async () => {
      t = target();
      handle = await t.open();
      await migrate(handle);
    });
    afterAll(async () => {
      await handle?.close();
      await t?.cleanup?.();
    });
    const clearOutbox = () => handle.db.delete(scoringOutbox);

    it("applies migrations idempotently and creates one schema per owning service", async () => {
      await migrate(handle);
      const rows = await queryRows<{ schema_name: string }>(
        handle.db,
        sql`select schema_name from information_schema.schemata order by schema_name`,
      );
      const schemas = rows.map((r) => r.schema_name);
      expect(schemas).toEqual(
        expect.arrayContaining([
          "agent",
          "dispatch",
          "experiments",
          "gateway",
          "ingest",
          "scoring",
        ]),
      );
      const applied = await queryRows<{ n: number }>(
        handle.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const journal = JSON.parse(
        await readFile(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8"),
      );
      expect(applied[0]?.n).toBe(journal.entries.length);
    });

    it("ignores a repeated event id in the outbox (a retried transaction emits once)", async () => {
      await clearOutbox();
      const e = event("lead-retry", 1);
      await handle.db.transaction((tx) => enqueue(tx, scoringOutbox, [e]));
      await handle.db.transaction((tx) => enqueue(tx, scoringOutbox, [e]));
      expect(await handle.db.$count(scoringOutbox)).toBe(1);
    });

    it("tells how far behind the relay is: unpublished rows, the oldest one's age, quarantined rows", async () => {
      await clearOutbox();
      expect(await outboxStats(handle.db, scoringOutbox)).toEqual({
        unpublished: 0,
        oldestAgeMs: 0,
        quarantined: 0,
      });
      const [published, quarantined, waiting] = [1, 2, 3].map((n) => event("lead-stats", n));
      await handle.db.transaction((tx) =>
        enqueue(tx, scoringOutbox, [published!, quarantined!, waiting!]),
      );
      await handle.db.execute(
        sql`update scoring.outbox set created_at = now() - interval '90 seconds'
            where event_id = ${waiting!.eventId}`,
      );
      await handle.db
        .update(scoringOutbox)
        .set({ publishedAt: sql`now()` })
        .where(eq(scoringOutbox.eventId, published!.eventId));
      await handle.db
        .update(scoringOutbox)
        .set({ quarantinedAt: sql`now()`, quarantineReason: "too large" })
        .where(eq(scoringOutbox.eventId, quarantined!.eventId));
      const stats = await outboxStats(handle.db, scoringOutbox);
      expect(stats).toMatchObject({ unpublished: 1, quarantined: 1 });
      expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(90_000);
      expect(stats.oldestAgeMs).toBeLessThan(120_000);
    });

    it("an event processed twice changes state once (inbox in the same transaction)", async () => {
      await handle.db.insert(leads).values({ leadId: "lead-inbox", score: 0 });
      const handle1 = (eventId: string) =>
        handle.db.transaction(async (tx) => {
          if (!(await markProcessed(tx, scoringInbox, "scoring", eventId))) return false;
          await tx
            .update(leads)
            .set({ version: sql`${leads.version} + 1` })
            .where(eq(leads.leadId, "lead-inbox"));
          return true;
        });
      const id = randomUUID();
      expect(await handle1(id)).toBe(true);
      expect(await handle1(id)).toBe(false);
      // Another consumer may process the same event independently.
      expect(await markProcessed(handle.db, scoringInbox, "experiments", id)).toBe(true);
      const [row] = await handle.db.select().from(leads).where(eq(leads.leadId, "lead-inbox"));
      expect(row?.version).toBe(1);
    });

    it("concurrent deliveries of one event: exactly one transaction wins", async () => {
      const id = randomUUID();
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          handle.db.transaction((tx) => markProcessed(tx, scoringInbox, "scoring-race", id)),
        ),
      );
      expect(results.filter(Boolean).length).toBe(1);
    });
  });
}
