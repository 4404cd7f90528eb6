/**
 * Dispatch on a real broker and database for the integration suites: a topic prefix and a
 * database of its own, a tap on `outreach.dispatched.v1`, and what the simulated inbox holds.
 */
import { type Bus, createKafkaBus, publishEvents } from "@pw/bus";
import { createDb, type DbHandle, migrate, queryRows } from "@pw/db";
import {
  ALL_TOPICS,
  type OutreachDispatchedV1,
  type TopicEvent,
  type TopicName,
  Topics,
} from "@pw/events";
import { createLogger } from "@pw/logger";
import type { KafkaFixture, PostgresFixture, TestDatabase } from "@pw/testkit";
import { waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";

export type Harness = Awaited<ReturnType<typeof harness>>;

/** `waitFor` for a value: resolves with what the check found (never undefined). */
export function found<T>(
  check: () => T | undefined | Promise<T | undefined>,
  options: Parameters<typeof waitFor>[1],
): Promise<NonNullable<T>> {
  return waitFor(check, options) as Promise<NonNullable<T>>;
}

export async function harness(kafka: KafkaFixture, pg: PostgresFixture, name: string) {
  const database: TestDatabase = await pg.createDatabase(`pw_${name}`);
  const db: DbHandle = await createDb({ driver: "pg", url: database.url });
  await migrate(db);
  const prefix = `${kafka.uniqueName(name)}.`;
  const bus: Bus = createKafkaBus({
    brokers: kafka.brokers,
    topicPrefix: prefix,
    sessionTimeout: 10_000,
  });
  await bus.ensureTopics(ALL_TOPICS.map((topic) => ({ name: topic, partitions: 3 })));
  const verdicts: OutreachDispatchedV1[] = [];
  await bus.subscribe({
    groupId: "tap",
    topic: Topics.outreachDispatched,
    fromBeginning: true,
    decode: (v) => v as OutreachDispatchedV1,
    handler: async (e) => void verdicts.push(e),
  });
  const logger = createLogger({
    service: `${name}-test`,
    level: (process.env.TEST_LOG_LEVEL ?? "silent") as "silent",
  });
  return {
    database,
    db,
    bus,
    prefix,
    logger,
    verdicts,
    publish<T extends TopicName>(topic: T, events: TopicEvent<T>[]) {
      return publishEvents(bus, topic, events);
    },
    of(requestId: string) {
      return verdicts.filter((v) => v.data.requestId === requestId);
    },
    /** The first verdict with `status` on the request (step 0 unless given). */
    async verdict(requestId: string, status: string, step = 0, timeoutMs = 30_000) {
      return found(
        () =>
          verdicts.find(
            (v) =>
              v.data.requestId === requestId &&
              v.data.status === status &&
              v.data.cadenceStep === step,
          ),
        { timeoutMs, intervalMs: 50, message: `${status} for ${requestId} step ${step}` },
      );
    },
    /** Messages the simulated inbox holds for a lead. */
    async inbox(leadId: string) {
      return queryRows<{ subject: string; text: string; headers: Record<string, string> }>(
        db.db,
        sql`select subject, text, headers from agent.inbox where lead_id = ${leadId} order by id`,
      );
    },
    async lead(leadId: string) {
      const [row] = await queryRows<{ opted_out_at: Date | null; suppressed: boolean }>(
        db.db,
        sql`select opted_out_at, suppressed from dispatch.leads where lead_id = ${leadId}`,
      );
      return row;
    },
    async close() {
      await bus.close();
      await db.close();
      await database.drop();
    },
  };
}
