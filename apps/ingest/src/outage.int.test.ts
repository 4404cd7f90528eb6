// Broker outage: while the broker is down senders get 503 + Retry-After (never a
// 2xx for something lost); once it is back their retries succeed, and the topic
// holds exactly one message per 202 — no loss, no duplicate.
import { createKafkaBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import {
  postgresFixture,
  privateKafka,
  requireServices,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { ingestApp, newSecret, signed } from "../test/harness.ts";

const pg = await postgresFixture();
const broker = await privateKafka();
if (!broker && requireServices())
  throw new Error(
    "REQUIRE_SERVICES=1 but no Kafka jars for a private broker (scripts/services.sh up)",
  );
if (!broker)
  process.stderr.write(
    "\n!!! SKIPPING broker outage test — no Kafka jars (scripts/services.sh up)\n\n",
  );

describe.runIf(pg && broker)("ingest during a broker outage", () => {
  afterAll(async () => {
    await broker?.destroy();
  });

  it("answers 503 while the broker is down, then every retried event lands — a second copy (same event id) only of a publish that timed out", async () => {
    await broker!.start();
    const database = await pg!.createDatabase("pw_outage");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    const bus = createKafkaBus({
      brokers: broker!.brokers,
      clientId: "outage",
      publishRetry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 },
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 3 })));
    const secret = newSecret();
    const app = await ingestApp({ bus, db }, [secret], {
      publishTimeoutMs: 5_000,
      retryAfterSeconds: 1,
    });

    const total = 120;
    let accepted = 0;
    let duplicates = 0;
    let unavailable = 0;
    let retryAfterSeen = false;
    /** Senders answered 503 at least once: their first publish may still land late. */
    const timedOut = new Set<string>();
    // Senders: each event is retried until it gets a 2xx, as Standard Webhooks senders do.
    async function sender(i: number) {
      const raw = JSON.stringify({
        type: "page_viewed",
        occurredAt: new Date().toISOString(),
        leadId: `outage-${i}`,
      });
      for (;;) {
        // Each retry is signed afresh (new timestamp), with the same webhook-id.
        const res = await app
          .inject(signed("/webhooks/signals", raw, { secret, id: `msg_outage_${i}` }))
          .catch(() => undefined);
        const status = res?.statusCode ?? 0;
        if (status === 202) return void accepted++;
        if (status === 200) return void duplicates++;
        if (status === 503) {
          unavailable++;
          timedOut.add(`outage-${i}`);
          if (res?.headers["retry-after"] === "1") retryAfterSeen = true;
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    }

    const first = await Promise.all(Array.from({ length: 40 }, (_, i) => sender(i)));
    expect(first).toHaveLength(40);
    await broker!.stop();
    const during = Promise.all(Array.from({ length: 80 }, (_, i) => sender(40 + i)));
    await waitFor(() => unavailable >= 5, {
      timeoutMs: 30_000,
      message: "senders to be answered 503 while the broker is down",
    });
    await broker!.start();
    await during;

    expect(accepted + duplicates).toBe(total);
    expect(retryAfterSeen).toBe(true);

    // Read the topic back from the beginning.
    const seen: string[] = [];
    const copies = new Map<string, { subject: string; n: number }>();
    const sub = await bus.subscribe({
      groupId: "outage-reader",
      topic: "lead.events.v1",
      decode: (v) => v as { id: string; subject: string },
      handler: async (e) => {
        seen.push(e.id);
        const c = copies.get(e.id) ?? { subject: e.subject, n: 0 };
        c.n++;
        copies.set(e.id, c);
      },
    });
    await waitFor(() => seen.length >= accepted, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: `the ${accepted} accepted events to be read back`,
    });
    // Until everything on the topic has been read: anything extra would be there too.
    await waitFor(
      async () => seen.length === (await topicMessageCount(broker!.brokers, "lead.events.v1")),
      { timeoutMs: 60_000, intervalMs: 200, message: "the whole topic to be read" },
    );
    await sub.close();
    expect(new Set(seen).size).toBe(total);
    // A publish that timed out (503) may still reach the broker later, after the sender's
    // retry published the event again: a second copy with the same event id, which every
    // consumer's inbox drops (ADR 0004). Only such deliveries may have a second copy, and
    // never a third; an event accepted at the first try lands exactly once.
    const extra = [...copies.values()].filter((c) => c.n > 1);
    expect(extra.filter((c) => !timedOut.has(c.subject) || c.n > 2)).toEqual([]);
    expect(seen.length).toBe(accepted + extra.length);

    await app.close();
    await bus.close();
    await db.close();
    await database.drop();
  }, 240_000);
});
