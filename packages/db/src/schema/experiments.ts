/** Tables owned by apps/experiments (Postgres schema `experiments`). */

import type {
  Channel,
  DecisionExplanation,
  OutreachRequested,
  PersonalisationFacts,
} from "@pw/events";
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

export const experiments = pgSchema("experiments");

type BetaPrior = { alpha: number; beta: number };
const ARM_STATUSES = ["active", "suppressed", "paused"] as const;
/** A variant's standing in one segment (`arms.status`). */
export type ArmStatus = (typeof ARM_STATUSES)[number];

/**
 * `decisions.context`: the segment's arms and the policy options as the engine saw them
 * when it decided (an `ArmState[]` and `PolicyOptions` from @pw/bandit), so `pnpm ope`
 * can replay another policy on the same knowledge.
 */
export type DecisionContext = {
  arms: {
    id: string;
    successes: number;
    failures: number;
    exposures: number;
    status: ArmStatus;
    /** The arm's own (pooled) prior, when the engine used one. */
    prior?: BetaPrior;
  }[];
  policy: { burnIn: number; floor: number; prior: BetaPrior; draws: number; sharpen?: number };
};

/** Message variants per channel, editable by operators. */
export const playbook = experiments.table("playbook", {
  variantId: text().primaryKey(),
  channel: text({
    enum: ["email", "linkedin", "slack", "in_app"] as const satisfies readonly Channel[],
  }).notNull(),
  /** The angle in one word: pain_point, social_proof, roi, short_question, case_study… */
  angle: text().notNull(),
  /** Templates with `{{firstName}}`-style slots filled from the lead's facts. */
  subjectTemplate: text().notNull(),
  bodyTemplate: text().notNull(),
  /** 0 = first touch (an experiment arm); 1, 2… = follow-up steps of the cadence. */
  cadenceStep: integer().notNull().default(0),
  /** Follow-ups: days after the previous step. */
  delayDays: integer().notNull().default(0),
  /** A follow-up written for one first-touch variant; null = follows any variant. */
  parentVariantId: text(),
  /** experiment (bandit arm) | nurture (low-touch track for leads that did not get capacity). */
  track: text({ enum: ["experiment", "nurture"] })
    .notNull()
    .default("experiment"),
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
    /**
     * The recent window of sends whose attribution window closed (each first multiplies
     * it by 1 - 1/window, ADR 0015): change detection compares its rate with `closed_*`.
     */
    recentSuccesses: real().notNull().default(0),
    recentFailures: real().notNull().default(0),
    /** Long-run counts of sends whose window closed: the baseline of the recent window. */
    closedSuccesses: real().notNull().default(0),
    closedFailures: real().notNull().default(0),
    /** Guardrail evidence: deliverability and compliance, whatever the conversions. */
    bounces: integer().notNull().default(0),
    unsubscribes: integer().notNull().default(0),
    negativeReplies: integer().notNull().default(0),
    /**
     * The same guardrail evidence over the arm's recent sends (each send first multiplies
     * these by 1 - 1/500, @pw/bandit GUARDRAIL_WINDOW_SENDS): a list that goes bad late is
     * caught where a long healthy history would hide it.
     */
    recentSends: real().notNull().default(0),
    recentBounces: real().notNull().default(0),
    recentUnsubscribes: real().notNull().default(0),
    recentNegativeReplies: real().notNull().default(0),
    /** When the evidence was last decayed (campaigns configured to forget, for drift). */
    decayedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    status: text({ enum: ARM_STATUSES }).notNull().default("active"),
    statusReason: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.segment, t.variantId] })],
);

/**
 * Whether a segment has a variant it may send. `blocked` is the side last announced
 * (`experiment.segment_blocked.v1` / `segment_unblocked.v1`), so each change is announced
 * once; every change of a variant's standing locks its segment's row here first, so two
 * instances changing one segment see each other's change in turn.
 */
export const segments = experiments.table("segments", {
  segment: text().primaryKey(),
  /** Every live variant of the segment is paused or suppressed: nothing may be sent there. */
  blocked: boolean().notNull().default(false),
  /** The sentence last announced. */
  reason: text(),
  changedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Every decision with the probability it was made with (off-policy evaluation). */
export const decisions = experiments.table(
  "decisions",
  {
    /** Idempotency key end to end (outreach.requested.v1 requestId). */
    requestId: text().primaryKey(),
    leadId: text().notNull(),
    segment: text().notNull(),
    variantId: text().notNull(),
    /** How the bandit picked the variant (the explanation's policy, bar operator/fixed). */
    policy: text({
      enum: [
        "burn_in",
        "thompson",
        "floor",
      ] as const satisfies readonly DecisionExplanation["policy"][],
    }).notNull(),
    propensity: real().notNull(),
    decidedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    /**
     * pending_approval | requested | rejected (approval mode holds decisions for an
     * operator) | not_sent (dispatch skipped or failed it: not a send, not a failure).
     */
    state: text({ enum: ["pending_approval", "requested", "rejected", "not_sent"] })
      .notNull()
      .default("requested"),
    /** When the request went out (the attribution window starts here); null while pending. */
    requestedAt: timestamp({ withTimezone: true }),
    /**
     * The state the decision was made in — arms (successes, failures, exposures,
     * status, prior) and policy options — so `pnpm ope` can ask what another policy
     * would have done with the same knowledge.
     */
    context: jsonb().$type<DecisionContext>(),
    /** The outreach.requested.v1 envelope, kept while a decision waits for approval. */
    pendingRequest: jsonb().$type<OutreachRequested>(),
    /**
     * Set once the decision counted in the posterior: as a success when the reward
     * outcome arrived inside the attribution window, as a failure when the window closed
     * without it. Never both, never twice.
     */
    settledAt: timestamp({ withTimezone: true }),
    rewarded: boolean(),
    /**
     * Set when the attribution window closed (after it was settled, rewarded or not):
     * from then on its outcome is final, and change detection counts it (ADR 0015).
     */
    closedAt: timestamp({ withTimezone: true }),
    /**
     * The `lead.scored.v1` event decided on: the settlement names it, so scoring labels
     * the features it had when the lead was contacted (null for older decisions).
     */
    scoredEventId: text(),
    /**
     * The journey's trace at the decision (the request's W3C traceparent): an outcome that
     * arrives days later, on a trace of its own, is recorded as a span of this one.
     */
    traceparent: text(),
  },
  (t) => [
    index().on(t.leadId, t.decidedAt),
    index().on(t.state, t.settledAt),
    index().on(t.state, t.closedAt, t.requestedAt),
  ],
);

/**
 * Leads waiting for send capacity, highest priority first. A lead is queued once;
 * a rescore while waiting updates its score. Every row ends requested, nurtured,
 * pending approval, rejected or on the do-not-contact list — never silently dropped.
 */
export const queue = experiments.table(
  "queue",
  {
    leadId: text().primaryKey(),
    /** The lead.scored.v1 event that queued it (request ids derive from it). */
    eventId: text().notNull(),
    segment: text().notNull(),
    score: real().notNull(),
    /** Operator "prioritise": added to the priority so the lead goes first. */
    boost: real().notNull().default(0),
    email: text().notNull(),
    facts: jsonb().$type<PersonalisationFacts>().notNull(),
    traceparent: text(),
    status: text({
      enum: ["queued", "requested", "pending_approval", "nurture", "rejected", "do_not_contact"],
    })
      .notNull()
      .default("queued"),
    queuedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
    note: text(),
  },
  (t) => [index().on(t.status, t.queuedAt)],
);

/** Sends used per UTC day, incremented atomically under the cap by every instance. */
export const sendCapacity = experiments.table("send_capacity", {
  day: text().primaryKey(),
  used: integer().notNull().default(0),
});

/** Operator switches that hold across restarts (kill switch, approval mode). */
export const settings = experiments.table("settings", {
  key: text({ enum: ["kill_switch", "approval_mode"] }).primaryKey(),
  enabled: boolean().notNull(),
  /** Who set it and why (operators are accountable for overrides). */
  by: text().notNull(),
  reason: text(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/**
 * Leads the engine must not request outreach for: opted out (unsubscribed, asked in
 * a reply), put on the list by an operator, or suppressed by an operator (removable).
 */
export const doNotContact = experiments.table("do_not_contact", {
  leadId: text().primaryKey(),
  /** unsubscribed | asked in a reply | do_not_contact by <operator> | suppressed by <operator> */
  reason: text().notNull(),
  at: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export const experimentsOutbox = outboxTable(experiments);
export const experimentsInbox = inboxTable(experiments);
