/**
 * The outbox relay on both database drivers (PGlite as a unit test, PostgreSQL as an
 * integration test): what a transaction committed is published in order and what it
 * rolled back never is; a broker outage keeps rows until it is back; no transaction is
 * open while a batch is on its way to the broker; two relays at once publish every row
 * exactly once and each key in order; a row the broker refuses for good is quarantined
 * and the rows after it go on.
 */
import { randomUUID } from "node:crypto";
import type { Bus, OutgoingMessage } from "@pw/bus";
import { type DbHandle, enqueue, queryRows } from "@pw/db";
import { leads, scoringOutbox } from "@pw/db/scoring";
import { waitFor } from "@pw/testkit";
import { eq, isNull, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createServiceMetrics } from "./metrics.ts";
import { createRelay, type OutboxRelay } from "./outbox.ts";

// A stored envelope whose data carries the test's sequence number (the relay never reads it).
const row = (key: string, n: number, padding = "") => {
  const id = randomUUID();
  return {
    eventId: id,
    topic: "lead.scored.v1",
    key,
    payload: {
      specversion: "1.0" as const,
      id,
      source: "pw://relay-test",
      time: new Date().toISOString(),
      subject: key,
      datacontenttype: "application/json" as const,
      type: "lead.scored.v1",
      data: { n, padding },
    },
    headers: { "ce-type": "lead.scored.v1" },
  };
};

/** Only `publish` is the relay's business; the rest of the port is never called. */
function recordingBus(publish: (topic: string, m: OutgoingMessage[]) => Promise<void>): Bus {
  return { publish } as unknown as Bus;
}
const numberOf = (m: OutgoingMessage) => (JSON.parse(m.value) as { data: { n: number } }).data.n;
const numbers = (messages: OutgoingMessage[]) => messages.map(numberOf);
/** What kafkajs gives when the broker cannot be reached: transient, retried. */
const brokerDown = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9092"), { code: "ECONNREFUSED" });

/** Pairs (earlier, later) of one key published in the opposite order of their ids. */
function inversions(messages: OutgoingMessage[]): number {
  const lastByKey = new Map<string, number>();
  let count = 0;
  for (const m of messages) {
    const n = numberOf(m);
    const last = lastByKey.get(m.key);
    if (last !== undefined && n < last) count++;
    else lastByKey.set(m.key, n);
  }
  return count;
}

export function relaySuite(
  name: string,
  open: () => Promise<{ handle: DbHandle; close(): Promise<void> }>,
) {
  describe(`outbox relay: ${name}`, () => {
    let target: Awaited<ReturnType<typeof open>>;
    let handle: DbHandle;
    const relays: OutboxRelay[] = [];
    const relay = (options: Omit<Parameters<typeof createRelay>[0], "handle">) => {
      const r = createRelay({ handle, ...options });
      relays.push(r);
      return r;
    };
    beforeAll(async () => {
      target = await open();
      handle = target.handle;
    });
    afterAll(() => target?.close());
    beforeEach(async () => {
      await handle.db.delete(scoringOutbox);
    });
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
    });

    it("publishes what a transaction committed, in order, and nothing it rolled back", async () => {
      await handle.db.transaction(async (tx) => {
        await tx.insert(leads).values({ leadId: "lead-commit", score: 10 });
        await enqueue(tx, scoringOutbox, [row("lead-commit", 1), row("lead-commit", 2)]);
      });
      await expect(
        handle.db.transaction(async (tx) => {
          await tx.insert(leads).values({ leadId: "lead-rollback", score: 10 });
          await enqueue(tx, scoringOutbox, [row("lead-rollback", 1)]);
          throw new Error("handler failed after writing");
        }),
      ).rejects.toThrow("handler failed");
      const published: OutgoingMessage[] = [];
      const r = relay({
        table: scoringOutbox,
        bus: recordingBus(async (_t, m) => void published.push(...m)),
      });
      expect(await r.drainOnce()).toBe(2);
      expect(await r.drainOnce()).toBe(0);
      expect(numbers(published)).toEqual([1, 2]);
      expect(
        published.every(
          (m) => m.key === "lead-commit" && m.headers?.["ce-type"] === "lead.scored.v1",
        ),
      ).toBe(true);
      expect(await handle.db.select().from(leads).where(eq(leads.leadId, "lead-rollback"))).toEqual(
        [],
      );
    });

    it("keeps rows while the broker is down and publishes them once it is back", async () => {
      await handle.db.transaction((tx) =>
        enqueue(
          tx,
          scoringOutbox,
          [1, 2, 3].map((n) => row("lead-outage", n)),
        ),
      );
      let brokerUp = false;
      let failures = 0;
      const published: OutgoingMessage[] = [];
      const r = relay({
        table: scoringOutbox,
        pollIntervalMs: 10,
        bus: recordingBus(async (_t, m) => {
          if (!brokerUp) {
            failures++;
            throw brokerDown();
          }
          published.push(...m);
        }),
      });
      await expect(r.drainOnce()).rejects.toThrow("ECONNREFUSED");
      expect(await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))).toBe(3);
      r.start();
      await waitFor(() => failures >= 3, { message: "the relay to retry against the dead broker" });
      expect(published).toEqual([]);
      brokerUp = true;
      await waitFor(() => published.length === 3, { message: "the rows after the broker is back" });
      await r.stop();
      expect(numbers(published)).toEqual([1, 2, 3]);
      expect(await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))).toBe(0);
    });

    it("holds no transaction or row lock while a batch is on its way to the broker", async () => {
      await handle.db.transaction((tx) => enqueue(tx, scoringOutbox, [row("lead-free", 1)]));
      const [stored] = await handle.db.select().from(scoringOutbox);
      let duringPublish = "not reached";
      const r = relay({
        table: scoringOutbox,
        bus: recordingBus(async () => {
          // Another writer touches the very row being published, refusing to wait for a lock.
          const attempt = handle.db.transaction((tx) =>
            tx
              .select()
              .from(scoringOutbox)
              .where(eq(scoringOutbox.id, stored!.id))
              .for("update", { noWait: true }),
          );
          duringPublish = await Promise.race([
            attempt.then(
              () => "free",
              (e: Error) => `locked: ${e.message}`,
            ),
            new Promise<string>((resolve) => setTimeout(() => resolve("blocked for 2 s"), 2_000)),
          ]);
        }),
      });
      expect(await r.drainOnce()).toBe(1);
      expect(duringPublish).toBe("free");
    });

    it("two relays at once publish every row exactly once, and each key in order", async () => {
      const total = 300;
      await handle.db.transaction((tx) =>
        enqueue(
          tx,
          scoringOutbox,
          Array.from({ length: total }, (_, i) => row(`lead-${i % 7}`, i)),
        ),
      );
      const published: OutgoingMessage[] = [];
      const bus = recordingBus(async (_t, m) => {
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        published.push(...m);
      });
      const a = relay({ table: scoringOutbox, bus, batchSize: 25, pollIntervalMs: 5 });
      const b = relay({ table: scoringOutbox, bus, batchSize: 25, pollIntervalMs: 5 });
      a.start();
      b.start();
      await waitFor(
        async () =>
          (await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))) === 0,
        { message: "every row published" },
      );
      await Promise.all([a.stop(), b.stop()]);
      const figures = {
        published: published.length,
        distinct: new Set(numbers(published)).size,
        inversions: inversions(published),
      };
      expect(figures).toEqual({ published: total, distinct: total, inversions: 0 });
    });

    it("rows published but not yet marked stay with their relay: no other instance sends them again", async () => {
      await handle.db.transaction((tx) =>
        enqueue(tx, scoringOutbox, [row("lead-m", 1), row("lead-m", 2), row("lead-m", 3)]),
      );
      const published: OutgoingMessage[] = [];
      const bus = recordingBus(async (_t, m) => void published.push(...m));
      const a = relay({ table: scoringOutbox, bus });
      const b = relay({ table: scoringOutbox, bus });
      // The mark's connection fails (the database went away for the pool, not for the lock).
      const markFails = vi.spyOn(handle.db, "update").mockImplementation(() => {
        throw brokerDown();
      });
      try {
        await expect(a.drainOnce()).rejects.toThrow("ECONNREFUSED");
        expect(await b.drainOnce()).toBe(0);
      } finally {
        markFails.mockRestore();
      }
      expect(await a.drainOnce()).toBe(0);
      expect(await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))).toBe(0);
      expect(await b.drainOnce()).toBe(0);
      expect(numbers(published)).toEqual([1, 2, 3]);
    });

    it("when the relay that is publishing stops, another instance takes over", async () => {
      const published: OutgoingMessage[] = [];
      const bus = recordingBus(async (_t, m) => void published.push(...m));
      const a = relay({ table: scoringOutbox, bus, pollIntervalMs: 5 });
      const b = relay({ table: scoringOutbox, bus, pollIntervalMs: 5 });
      a.start();
      b.start();
      await handle.db.transaction((tx) => enqueue(tx, scoringOutbox, [row("lead-over", 1)]));
      await waitFor(() => published.length === 1, { message: "the first row" });
      await a.stop();
      await handle.db.transaction((tx) => enqueue(tx, scoringOutbox, [row("lead-over", 2)]));
      await waitFor(() => published.length === 2, { message: "the second row, after a stopped" });
      expect(numbers(published)).toEqual([1, 2]);
    });

    it("quarantines a row the broker refuses for good, with its reason, and publishes the rest", async () => {
      await handle.db.transaction((tx) =>
        enqueue(tx, scoringOutbox, [
          row("lead-q", 1),
          row("lead-q", 2),
          row("lead-other", 3),
          row("lead-q", 4),
        ]),
      );
      const published: OutgoingMessage[] = [];
      const metrics = createServiceMetrics("relay-test");
      const r = relay({
        table: scoringOutbox,
        metrics,
        bus: recordingBus(async (_t, m) => {
          if (m.some((x) => numberOf(x) === 2))
            throw new Error("MESSAGE_TOO_LARGE: the broker refuses a message this large");
          published.push(...m);
        }),
      });
      let attempts = 0;
      while ((await r.drainOnce().catch(() => -1)) !== 0 && attempts < 5) attempts++;
      expect(numbers(published)).toEqual([1, 3, 4]);
      const quarantined = await queryRows<{ n: number; reason: string }>(
        handle.db,
        sql`select (payload->'data'->>'n')::int as n, quarantine_reason as reason
            from scoring.outbox where quarantined_at is not null`,
      );
      expect(quarantined).toEqual([{ n: 2, reason: expect.stringContaining("MESSAGE_TOO_LARGE") }]);
      expect(await metrics.registry.getSingleMetricAsString("pw_outbox_quarantined_total")).toMatch(
        /pw_outbox_quarantined_total\{topic="lead.scored.v1",service="relay-test"\} 1/,
      );
      expect(await r.drainOnce()).toBe(0);
      expect(published.length).toBe(3);
    });

    it("quarantines a row larger than the message limit without sending it", async () => {
      await handle.db.transaction((tx) =>
        enqueue(tx, scoringOutbox, [
          row("lead-big", 1),
          row("lead-big", 2, "x".repeat(5_000)),
          row("lead-big", 3),
        ]),
      );
      const sent: number[] = [];
      const r = relay({
        table: scoringOutbox,
        maxMessageBytes: 2_000,
        bus: recordingBus(async (_t, m) => void sent.push(...numbers(m))),
      });
      let attempts = 0;
      while ((await r.drainOnce().catch(() => -1)) !== 0 && attempts < 5) attempts++;
      expect(sent).toEqual([1, 3]);
      const [q] = await queryRows<{ reason: string }>(
        handle.db,
        sql`select quarantine_reason as reason from scoring.outbox where quarantined_at is not null`,
      );
      expect(q?.reason).toMatch(/\d{4,} bytes.*limit of 2000 bytes/);
    });
  });
}
