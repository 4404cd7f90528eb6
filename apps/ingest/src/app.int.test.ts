// The ingest suite on a real Kafka broker and a real PostgreSQL.
import { createKafkaBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { kafkaFixture, postgresFixture } from "@pw/testkit";
import { describe } from "vitest";
import { ingestSuite } from "../test/ingest-suite.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();

describe.runIf(kafka && pg)("ingest on real services", () => {
  ingestSuite(`Kafka (${kafka?.source}) + PostgreSQL (${pg?.source})`, async () => {
    const database = await pg!.createDatabase("pw_ingest");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    // A topic namespace of its own: the suite's taps read from the beginning and
    // must see only this run's events.
    const bus = createKafkaBus({
      brokers: kafka!.brokers,
      clientId: "ingest-int",
      sessionTimeout: 10_000,
      topicPrefix: `${kafka!.uniqueName("ingest")}.`,
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
    return {
      bus,
      db,
      close: async () => {
        await bus.close();
        await db.close();
        await database.drop();
      },
    };
  });
});
