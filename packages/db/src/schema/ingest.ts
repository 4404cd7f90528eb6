/** Tables owned by apps/ingest (Postgres schema `ingest`). */
import { jsonb, pgSchema, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const ingest = pgSchema("ingest");

/**
 * Where a full scan of one Lightfield object type got to, so a restart resumes mid-scan:
 * the next `offset` to list, and when the scan began (ISO 8601). No offset: no scan in
 * progress. (Rows written before 0006 hold `{ updatedSince }`, which reads as "no scan".)
 */
export type PollerCursor = { offset?: number; scanStartedAt?: string; lastScanAt?: string };

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

/**
 * What the Lightfield poller last saw of each record. Lightfield lists cannot filter or
 * sort by `updatedAt`, so every scan reads every record and emits only those that changed
 * against this row: a newer `updatedAt`, or (same or null `updatedAt`) another content hash.
 */
export const lightfieldRecords = ingest.table(
  "lightfield_records",
  {
    /** Lightfield's plural object type (`contacts`, `accounts`, …). */
    objectType: text().notNull(),
    recordId: text().notNull(),
    /** The record's `updatedAt` as last emitted; null when Lightfield sent none. */
    updatedAt: timestamp({ withTimezone: true }),
    /** sha256 of the record's fields and relationships (canonical JSON) as last emitted. */
    contentHash: text().notNull(),
    /** When a scan last emitted this row's version. */
    seenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.objectType, t.recordId] })],
);

export const ingestOutbox = outboxTable(ingest);
export const ingestInbox = inboxTable(ingest);
