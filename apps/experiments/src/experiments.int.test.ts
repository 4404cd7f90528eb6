// The engine as a service on a real Kafka broker and PostgreSQL: scored leads in →
// outreach requests out; outcomes in → posteriors move; an operator's kill switch stops it
// and releasing it lets the leads that waited go out.
import { seededRng } from "@pw/bandit";
import { createKafkaBus, publishEvents } from "@pw/bus";
import { createDb, type DbHandle, migrate, schema } from "@pw/db";
import { ALL_TOPICS, envelope, type OperatorCommand, Topics } from "@pw/events";
import { kafkaFixture, postgresFixture, type TestDatabase } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outcome, scored } from "../test/fixtures.ts";
import { startExperiments } from "./consumers.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

const kafka = await kafkaFixture();
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
    await seedPlaybook(db.db);
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
    const engine = engineBuilder({ db: db.db, rng: seededRng(5) });
    running = await startExperiments({
      bus,
      db: db.db,
      engine,
      operator: operatorBuilder({ db: db.db }),
      reviewEveryMs: 500,
    });
  });
  afterAll(async () => {
    await running?.stop();
    await bus?.close();
    await db?.close();
    await database?.drop();
  });

  const waitFor = async (cond: () => boolean | Promise<boolean>, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it("turns scored leads into requests, learns from outcomes, and obeys the kill switch", async () => {
    await publishEvents(
      bus,
      Topics.leadScored,
      Array.from({ length: 40 }, (_, i) => scored(`lead-${i}`)),
    );
    await waitFor(() => requested.length === 40, "40 requests");
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
      "10 successes",
    );

    const kill = envelope({
      type: "operator.kill_switch.v1",
      source: "pw://gateway",
      subject: "operator:global",
      data: { engaged: true, operator: "ops@acme.io" },
    }) as OperatorCommand;
    await publishEvents(bus, Topics.operatorCommands, [kill]);
    await waitFor(
      async () => (await db.db.select().from(schema.settings)).some((s) => s.enabled),
      "the kill switch",
    );
    await publishEvents(bus, Topics.leadScored, [scored("after-kill")]);
    await waitFor(
      async () => (await db.db.select().from(schema.queue)).some((q) => q.leadId === "after-kill"),
      "the lead to be queued",
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(requested.some((r) => r.key === "after-kill")).toBe(false);
    // Released: the lead that waited goes out — it was never dropped.
    await publishEvents(bus, Topics.operatorCommands, [
      envelope({
        type: "operator.kill_switch.v1",
        source: "pw://gateway",
        subject: "operator:global",
        data: { engaged: false, operator: "ops@acme.io" },
      }) as OperatorCommand,
    ]);
    await waitFor(() => requested.some((r) => r.key === "after-kill"), "the held lead's request");
  });
});
