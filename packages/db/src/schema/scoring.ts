/** Tables owned by apps/scoring (Postgres schema `scoring`). */

import type { IntentSignalKind, Tier } from "@pw/events";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  real,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const scoring = pgSchema("scoring");

/** A lead's merged profile: each field with the `occurredAt` of the event it came from. */
export type StoredProfile = Record<string, { value: unknown; at: string }>;

export const leads = scoring.table("leads", {
  leadId: text().primaryKey(),
  /**
   * Merged profile: `{ field: { value, at } }` — each field remembers the `occurredAt`
   * it came from, so an older event never overwrites newer data.
   */
  profile: jsonb().$type<StoredProfile>().notNull().default({}),
  /** Engagement with past outreach: counts per outcome kind. */
  engagement: jsonb().$type<Record<string, number>>().notNull().default({}),
  /** False once the lead unsubscribed, bounced hard or withdrew consent. */
  contactable: boolean().notNull().default(true),
  /** Score, tier and segment as last emitted on `lead.scored.v1` (material-change detection). */
  score: real(),
  tier: text({ enum: ["hot", "warm", "cold"] as const satisfies readonly Tier[] }),
  segment: text(),
  /** Optimistic concurrency: bumped on every update. */
  version: integer().notNull().default(0),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Time-stamped intent signals per lead (recency decay is computed from these). */
export const signals = scoring.table(
  "signals",
  {
    leadId: text().notNull(),
    eventId: text().notNull(),
    kind: text({
      enum: [
        "page_viewed",
        "pricing_viewed",
        "demo_requested",
        "trial_started",
        "form_submitted",
      ] as const satisfies readonly IntentSignalKind[],
    }).notNull(),
    url: text(),
    occurredAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.eventId] }), index().on(t.leadId, t.occurredAt)],
);

/** Versions of the built-in model's weights; exactly one is active. */
export const modelVersions = scoring.table("model_versions", {
  version: integer().primaryKey(),
  weights: jsonb().$type<Record<string, number>>().notNull(),
  /** Why this version exists: "initial", "online update from <event>", "rollback to N". */
  reason: text().notNull(),
  updates: integer().notNull().default(0),
  active: boolean().notNull().default(false),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const scoringOutbox = outboxTable(scoring);
export const scoringInbox = inboxTable(scoring);
