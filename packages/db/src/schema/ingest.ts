/** Tables owned by apps/ingest (Postgres schema `ingest`). */
import { jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const ingest = pgSchema("ingest");

/** Where a poll resumes: records updated at or after this time (ISO 8601). */
export type PollerCursor = { updatedSince?: string };

/** One row per accepted webhook delivery: a repeated `webhook-id` is acknowledged once. */
export const webhookReceipts = ingest.table("webhook_receipts", {
  webhookId: text().primaryKey(),
  /** The webhook route it came in on, or the Lightfield poller (ids `lfpoll_…`). */
  source: text({ enum: ["lightfield", "signals", "outcomes", "lightfield_poller"] }).notNull(),
  /** The envelope id it was published as. */
  eventId: text().notNull(),
  receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Where the Lightfield poller got to, per object type, so a restart resumes. */
export const pollerCursors = ingest.table("poller_cursors", {
  name: text().primaryKey(),
  cursor: jsonb().$type<PollerCursor>().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const ingestOutbox = outboxTable(ingest);
export const ingestInbox = inboxTable(ingest);
