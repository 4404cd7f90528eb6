/** Tables owned by apps/scoring (Postgres schema `scoring`). */

import type { IntentSignalKind, ModelMetrics, Tier, TierCutoffs } from "@pw/events";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  real,
  smallint,
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
  /** Why this version exists: "initial priors", "refit on …", "rollback to N". */
  reason: text().notNull(),
  updates: integer().notNull().default(0),
  active: boolean().notNull().default(false),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  /** initial | online_update (earlier releases) | refit | rollback | rejected (a refit that lost). */
  cause: text(),
  /** A refit's figures on its holdout, beside the version it was compared with. */
  holdout: jsonb().$type<ModelHoldout>(),
  /** Probability cut-offs of the tiers (null: the priors' fixed ones). */
  tiers: jsonb().$type<TierCutoffs>(),
  /** A refit: the newest labelled example it saw (the next refit counts labels after it). */
  labelledUpTo: timestamp({ withTimezone: true }),
});

/**
 * What scoring knew when it emitted a score — one row per `lead.scored.v1` it emitted:
 * the features (as the model read them), the probability it gave and the version that
 * gave it. When the engine settles a send decided on that score, the row gets its label:
 * the features as they were at contact, never ones the outcome itself changed.
 */
export const examples = scoring.table(
  "examples",
  {
    /** The `lead.scored.v1` event id. */
    scoredEventId: text().primaryKey(),
    leadId: text().notNull(),
    features: jsonb().$type<Record<string, number>>().notNull(),
    predicted: real().notNull(),
    modelVersion: text().notNull(),
    scoredAt: timestamp({ withTimezone: true }).notNull(),
    /** 1: the send was rewarded; 0: its window closed without; null: not (yet) labelled. */
    label: smallint(),
    labelledAt: timestamp({ withTimezone: true }),
    requestId: text(),
  },
  (t) => [index().on(t.labelledAt), index().on(t.scoredAt), index().on(t.leadId)],
);

export type ModelHoldout = {
  candidate: ModelMetrics;
  previous: ModelMetrics;
  trainedOn: number;
  verdict: string;
};

export const scoringOutbox = outboxTable(scoring);
export const scoringInbox = inboxTable(scoring);
