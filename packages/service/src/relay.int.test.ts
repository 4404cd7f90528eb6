// The relay suite on PostgreSQL; and against a real Kafka broker, the failure that once
// blocked an outbox for good: a row the broker refuses (MESSAGE_TOO_LARGE) is quarantined
// with the broker's reason, and the rows after it are published.
import { randomUUID } from "node:crypto";
import { createKafkaBus } from "@pw/bus";
import { createDb, type DbHandle, enqueue, migrate, queryRows } from "@pw/db";
import { scoringOutbox } from "@pw/db/scoring";
import { kafkaFixture, postgresFixture, type TestDatabase, topicMessageCount } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRelay } from "./outbox.ts";
import { relaySuite } from "./relay-suite.ts";

const pg = await postgresFixture();
const kafka = await kafkaFixture();

describe.runIf(pg)("on PostgreSQL", () => {
  relaySuite("PostgreSQL", async () => {
    const database = await pg!.createDatabase("pw_relay");
    const handle = await createDb({ driver: "pg", url: database.url });
    await migrate(handle);
    return {
      handle,
      close: async () => {
        await handle.close();
        await database.drop();
      },
    };
  });
});

describe.runIf(pg && kafka)("on PostgreSQL and Kafka", () => {
  let database: TestDatabase;
  let handle: DbHandle;
  beforeAll(async () => {
    database = await pg!.createDatabase("pw_relay_kafka");
    handle = await createDb({ driver: "pg", url: database.url });
    await migrate(handle);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const row = (n: number, padding = "") => {
    const id = randomUUID();
    return {
      eventId: id,
      topic: "lead.scored.v1",
      key: "lead-big",
      payload: {
        specversion: "1.0" as const,
        id,
        source: "pw://relay-test",
        time: new Date().toISOString(),
        subject: "lead-big",
        datacontenttype: "application/json" as const,
        type: "lead.scored.v1",
        data: { n, padding },
      },
    };
  };

  it("quarantines a 2 MB row the broker refuses, and publishes the rows after it", async () => {
    const prefix = `${kafka!.uniqueName("relay")}.`;
    const bus = createKafkaBus({ brokers: kafka!.brokers, topicPrefix: prefix, partitions: 1 });
    try {
      await bus.ensureTopics([{ name: "lead.scored.v1" }]);
      await handle.db.transaction((tx) =>
        enqueue(tx, scoringOutbox, [row(1), row(2, "x".repeat(2_000_000)), row(3)]),
      );
      // A limit above the broker's own, so that the broker is the one refusing.
      const relay = createRelay({ handle, table: scoringOutbox, bus, maxMessageBytes: 10_000_000 });
      let drains = 0;
      while ((await relay.drainOnce().catch(() => -1)) !== 0 && drains < 5) drains++;
      await relay.stop();
      const rows = await queryRows<{ n: number; published: boolean; reason: string | null }>(
        handle.db,
        sql`select (payload->'data'->>'n')::int as n, published_at is not null as published,
                   quarantine_reason as reason
            from scoring.outbox order by id`,
      );
      expect(rows).toEqual([
        { n: 1, published: true, reason: null },
        // The broker's MESSAGE_TOO_LARGE, or the bus refusing on its behalf beforehand.
        {
          n: 2,
          published: false,
          reason: expect.stringMatching(/MESSAGE_TOO_LARGE|max\.message\.bytes/),
        },
        { n: 3, published: true, reason: null },
      ]);
      expect(await topicMessageCount(kafka!.brokers, `${prefix}lead.scored.v1`)).toBe(2);
    } finally {
      await bus.close();
    }
  });
});
