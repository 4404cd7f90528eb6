/**
 * Outbox and inbox tables, one pair per owning service schema (a service never
 * reads another's). The outbox makes "change state + emit event" one
 * transaction; the inbox makes a handler idempotent under redelivery.
 */
import type { AnyEnvelope } from "@pw/events";
import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  jsonb,
  type PgSchema,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

export function outboxTable(schema: PgSchema<string>) {
  return schema.table(
    "outbox",
    {
      /** Publish order: the relay publishes unpublished rows by ascending id. */
      id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
      /** The envelope id; consumers dedupe on it. */
      eventId: text().notNull().unique(),
      topic: text().notNull(),
      /** Partition key (the lead id). */
      key: text().notNull(),
      /** The whole envelope, as published. */
      payload: jsonb().$type<AnyEnvelope>().notNull(),
      headers: jsonb().$type<Record<string, string>>().notNull().default({}),
      createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
      /** Null until the broker acknowledged it. */
      publishedAt: timestamp({ withTimezone: true }),
      /**
       * Set when the broker refused the row for good (too large, invalid): the relay skips
       * it and goes on with the rows after it. Clearing it (with the reason) requeues it.
       */
      quarantinedAt: timestamp({ withTimezone: true }),
      /** Why the row was quarantined: the broker's or the relay's own words. */
      quarantineReason: text(),
    },
    (t) => [index().on(t.id).where(sql`${t.publishedAt} is null`)],
  );
}

export function inboxTable(schema: PgSchema<string>) {
  return schema.table(
    "inbox",
    {
      /** The consumer (group) that processed the event: one event may matter to several. */
      consumer: text().notNull(),
      eventId: text().notNull(),
      processedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [primaryKey({ columns: [t.consumer, t.eventId] }), index().on(t.processedAt)],
  );
}

export type OutboxTable = ReturnType<typeof outboxTable>;
export type InboxTable = ReturnType<typeof inboxTable>;
