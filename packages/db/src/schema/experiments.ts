/** Tables owned by apps/experiments (Postgres schema `experiments`). */
import {
  boolean,
  index,
  integer,
  pgSchema,
  primaryKey,
  real,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const experiments = pgSchema("experiments");

/** Message variants per channel, editable by operators. */
export const playbook = experiments.table("playbook", {
  variantId: text().primaryKey(),
  channel: text().notNull(),
  /** The angle in one word: pain_point, social_proof, roi, short_question, case_study… */
  angle: text().notNull(),
  /** Templates with `{{firstName}}`-style slots filled from the lead's facts. */
  subjectTemplate: text().notNull(),
  bodyTemplate: text().notNull(),
  cadenceStep: integer().notNull().default(0),
  retired: boolean().notNull().default(false),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Posterior evidence per segment × variant. Updated only with atomic SQL increments. */
export const arms = experiments.table(
  "arms",
  {
    segment: text().notNull(),
    variantId: text().notNull(),
    exposures: integer().notNull().default(0),
    successes: real().notNull().default(0),
    failures: real().notNull().default(0),
    /** active | suppressed | paused */
    status: text().notNull().default("active"),
    statusReason: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.segment, t.variantId] })],
);

/** Every decision with the probability it was made with (off-policy evaluation). */
export const decisions = experiments.table(
  "decisions",
  {
    /** Idempotency key end to end (outreach.requested.v1 requestId). */
    requestId: text().primaryKey(),
    leadId: text().notNull(),
    segment: text().notNull(),
    variantId: text().notNull(),
    policy: text().notNull(),
    propensity: real().notNull(),
    decidedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * Set once the decision counted in the posterior: as a success when the reward
     * outcome arrived inside the attribution window, as a failure when the window closed
     * without it. Never both, never twice.
     */
    settledAt: timestamp({ withTimezone: true }),
    rewarded: boolean(),
  },
  (t) => [index().on(t.leadId, t.decidedAt)],
);

/** Operator switches that hold across restarts (kill switch, approval mode). */
export const settings = experiments.table("settings", {
  key: text().primaryKey(),
  enabled: boolean().notNull(),
  /** Who set it and why (operators are accountable for overrides). */
  by: text().notNull(),
  reason: text(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const experimentsOutbox = outboxTable(experiments);
export const experimentsInbox = inboxTable(experiments);
