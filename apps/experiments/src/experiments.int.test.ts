// The engine as a service on a real Kafka broker and PostgreSQL: scored leads in →
// outreach requests out; outcomes in → posteriors move; an operator's kill switch (signed
// by the gateway's key) stops it and releasing it lets the leads that waited go out.
import { seededRng } from "@pw/bandit";
import { createKafkaBus, publishEvents } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { ALL_TOPICS, commandKeyPair, formatCommandPublicKeys, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { kafkaFixture, postgresFixture, type TestDatabase, waitFor } from "@pw/testkit";
import { eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killSwitch, outcome, scored } from "../test/fixtures.ts";
import { experimentsConfig } from "./config.ts";
import { startExperiments } from "./start.ts";

const kafka = await kafkaFixture();
const gateway = commandKeyPair("gw-int");
const pg = await postgresFixture();

describe.runIf(kafka && pg)("experiments on real services", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  let running: Awaited<ReturnType<typeof startExperiments>>;
  const requested: { key: string; requestId: string; variantId: string }[] = [];

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_exp_int");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    bus = createKafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: `${kafka!.uniqueName("exp")}.`,
      sessionTimeout: 10_000,
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 3 })));
    await bus.subscribe({
      groupId: "tap",
      topic: Topics.outreachRequested,
      decode: (v) => v as { subject: string; data: { requestId: string; variantId: string } },
      handler: async (e) =>
        void requested.push({
          key: e.subject,
          requestId: e.data.requestId,
          variantId: e.data.variantId,
        }),
    });
    running = await startExperiments(
      experimentsConfig({
        PORT: "0",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
        OPERATOR_COMMAND_PUBLIC_KEYS: formatCommandPublicKeys([gateway]),
      }),
      {
        bus,
        db,
        rng: seededRng(5),
        listen: false,
        logger: createLogger({ service: "experiments-test", level: "silent" }),
      },
    );
  });
  afterAll(async () => {
    await running?.stop();
    await bus?.close();
    await db?.close();
    await database?.drop();
  });

  it("turns scored leads into requests, learns from outcomes, and obeys the kill switch", async () => {
    await publishEvents(
      bus,
      Topics.leadScored,
      Array.from({ length: 40 }, (_, i) => scored(`lead-${i}`)),
    );
    await waitFor(() => requested.length === 40, {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "40 requests",
    });
    expect(new Set(requested.map((r) => r.key)).size).toBe(40);

    const won = requested.slice(0, 10);
    await publishEvents(
      bus,
      Topics.outreachOutcomes,
      won.map((r) => outcome(r.key, "meeting_booked", new Date(), r.requestId)),
    );
    await waitFor(
      async () =>
        (await db.db.select().from(schema.arms)).reduce((n, a) => n + a.successes, 0) === 10,
      { timeoutMs: 30_000, intervalMs: 100, message: "10 successes" },
    );

    await publishEvents(bus, Topics.operatorCommands, [killSwitch(true, gateway)]);
    await waitFor(async () => (await db.db.select().from(schema.settings)).some((s) => s.enabled), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "the kill switch",
    });
    // An unsigned release, as anyone who can produce to the broker could send: refused and counted.
    await publishEvents(bus, Topics.operatorCommands, [killSwitch(false)]);
    await waitFor(
      async () =>
        /pw_events_handled_total\{[^}]*result="unauthenticated"[^}]*\} 1\b/.test(
          await running.metrics.registry.metrics(),
        ),
      { timeoutMs: 30_000, intervalMs: 100, message: "the forged release to be refused" },
    );
    expect((await db.db.select().from(schema.settings)).some((s) => s.enabled)).toBe(true);
    await publishEvents(bus, Topics.leadScored, [scored("after-kill")]);
    await waitFor(
      async () => (await db.db.select().from(schema.queue)).some((q) => q.leadId === "after-kill"),
      { timeoutMs: 30_000, intervalMs: 100, message: "the lead to be queued" },
    );
    // A drain after it was queued, and a relay with nothing left to publish: had the kill
    // switch not held the lead, its request would be on the broker by now.
    await running.drain();
    await waitFor(
      async () =>
        (await db.db.$count(
          schema.experimentsOutbox,
          isNull(schema.experimentsOutbox.publishedAt),
        )) === 0,
      { timeoutMs: 30_000, intervalMs: 100, message: "the outbox to be relayed" },
    );
    const [held] = await db.db
      .select()
      .from(schema.queue)
      .where(eq(schema.queue.leadId, "after-kill"));
    expect(held?.status).toBe("queued");
    expect(requested.some((r) => r.key === "after-kill")).toBe(false);
    // Released: the lead that waited goes out — it was never dropped.
    await publishEvents(bus, Topics.operatorCommands, [killSwitch(false, gateway)]);
    await waitFor(() => requested.some((r) => r.key === "after-kill"), {
      timeoutMs: 30_000,
      intervalMs: 100,
      message: "the held lead's request",
    });
  });
});
