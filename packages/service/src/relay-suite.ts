/**
 * The outbox relay on both database drivers (PGlite as a unit test, PostgreSQL as an
 * integration test): what a transaction committed is published in order and what it
 * rolled back never is; a broker outage keeps rows until it is back; two relays draining
 * at once publish every row exactly once.
 */
import { randomUUID } from "node:crypto";
import type { Bus, OutgoingMessage } from "@pw/bus";
import { type DbHandle, enqueue } from "@pw/db";
import { leads, scoringOutbox } from "@pw/db/scoring";
import { waitFor } from "@pw/testkit";
import { eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRelay } from "./outbox.ts";

// A stored envelope whose data carries the test's sequence number (the relay never reads it).
const row = (key: string, n: number) => {
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
      data: { n },
    },
    headers: { "ce-type": "lead.scored.v1" },
  };
};

/** Only `publish` is the relay's business; the rest of the port is never called. */
function recordingBus(publish: (topic: string, m: OutgoingMessage[]) => Promise<void>): Bus {
  return { publish } as unknown as Bus;
}
const numbers = (messages: OutgoingMessage[]) =>
  messages.map((m) => (JSON.parse(m.value) as { data: { n: number } }).data.n);

export function relaySuite(
  name: string,
  open: () => Promise<{ handle: DbHandle; close(): Promise<void> }>,
) {
  describe(`outbox relay: ${name}`, () => {
    let target: Awaited<ReturnType<typeof open>>;
    let handle: DbHandle;
    beforeAll(async () => {
      target = await open();
      handle = target.handle;
    });
    afterAll(() => target?.close());
    beforeEach(async () => {
      await handle.db.delete(scoringOutbox);
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
      const relay = createRelay({
        db: handle.db,
        table: scoringOutbox,
        bus: recordingBus(async (_t, m) => void published.push(...m)),
      });
      expect(await relay.drainOnce()).toBe(2);
      expect(await relay.drainOnce()).toBe(0);
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
      const relay = createRelay({
        db: handle.db,
        table: scoringOutbox,
        pollIntervalMs: 10,
        bus: recordingBus(async (_t, m) => {
          if (!brokerUp) {
            failures++;
            throw new Error("broker unavailable");
          }
          published.push(...m);
        }),
      });
      await expect(relay.drainOnce()).rejects.toThrow("broker unavailable");
      expect(await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))).toBe(3);
      relay.start();
      await waitFor(() => failures >= 3, { message: "the relay to retry against the dead broker" });
      expect(published).toEqual([]);
      brokerUp = true;
      await waitFor(() => published.length === 3, { message: "the rows after the broker is back" });
      await relay.stop();
      expect(numbers(published)).toEqual([1, 2, 3]);
      expect(await handle.db.$count(scoringOutbox, isNull(scoringOutbox.publishedAt))).toBe(0);
    });

    it("two relays draining at once publish every row exactly once", async () => {
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
        await new Promise((r) => setTimeout(r, 5));
        published.push(...m);
      });
      const a = createRelay({ db: handle.db, table: scoringOutbox, bus, batchSize: 25 });
      const b = createRelay({ db: handle.db, table: scoringOutbox, bus, batchSize: 25 });
      const drain = async (r: typeof a) => {
        while ((await r.drainOnce()) > 0) {}
      };
      await Promise.all([drain(a), drain(b)]);
      expect(published.length).toBe(total);
      expect(new Set(numbers(published)).size).toBe(total);
    });
  });
}
