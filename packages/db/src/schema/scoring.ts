/** Tables owned by apps/scoring (Postgres schema `scoring`). */
import { integer, jsonb, pgSchema, real, text, timestamp } from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const scoring = pgSchema("scoring");

export const leads = scoring.table("leads", {
  leadId: text().primaryKey(),
  /** Merged profile; each field carries the `occurredAt` it came from, so older events never win. */
  profile: jsonb().notNull().default({}),
  score: real(),
  tier: text(),
  segment: text(),
  /** Optimistic concurrency: bumped on every update. */
  version: integer().notNull().default(0),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const scoringOutbox = outboxTable(scoring);
export const scoringInbox = inboxTable(scoring);
