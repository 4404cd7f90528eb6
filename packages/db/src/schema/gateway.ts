/**
 * Tables owned by apps/gateway (Postgres schema `gateway`): operator accounts, sessions and
 * the audit log of their commands, and the read model the dashboard is served from — built
 * only from the topics (never from another service's tables).
 */
import type { ModelCandidateRejectedV1, TierCutoffs } from "@pw/events";
import { sql } from "drizzle-orm";
import {
  bigint,
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

export const gateway = pgSchema("gateway");

export const gatewayOutbox = outboxTable(gateway);
export const gatewayInbox = inboxTable(gateway);

const ROLES = ["viewer", "operator", "admin"] as const;
export type OperatorRole = (typeof ROLES)[number];

/** Operator accounts (from configuration or `pnpm gateway:operator add`). */
export const operators = gateway.table("operators", {
  username: text().primaryKey(),
  /** scrypt hash with its parameters and salt (`scrypt$N$r$p$salt$hash`). */
  passwordHash: text().notNull(),
  role: text({ enum: ROLES }).notNull(),
  disabled: boolean().notNull().default(false),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Signed-in sessions; the cookie carries the id, the table only its hash. */
export const sessions = gateway.table(
  "sessions",
  {
    idHash: text().primaryKey(),
    username: text().notNull(),
    role: text({ enum: ROLES }).notNull(),
    /** Sent back in a header with every command (double submit): CSRF-safe commands. */
    csrfToken: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("sessions_expires_idx").on(t.expiresAt)],
);

const AUDIT_RESULTS = ["published", "applied", "refused", "failed"] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/** Who issued which command when, and what the service it was for made of it. */
export const auditLog = gateway.table(
  "audit_log",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** The command's envelope id (what the consuming service's confirmation names). */
    commandId: text().notNull().unique(),
    commandType: text().notNull(),
    operator: text().notNull(),
    role: text({ enum: ROLES }).notNull(),
    /** The lead id or `operator:global`. */
    subject: text().notNull(),
    data: jsonb().$type<Record<string, unknown>>().notNull(),
    /**
     * Overall: `published` until every service the command is meant for confirmed
     * (`applied`), or as soon as one refused (`refused`). Each answer is in `results`.
     */
    result: text({ enum: AUDIT_RESULTS }).notNull().default("published"),
    /** The confirmations' sentences, one per service that answered. */
    detail: text(),
    at: timestamp({ withTimezone: true }).notNull(),
    /** When the overall result stopped being `published`. */
    resultAt: timestamp({ withTimezone: true }),
    /** The services the command is meant for (each confirms it), fixed when it was issued. */
    services: jsonb().$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    /** Each service's confirmation, by service name. */
    results: jsonb()
      .$type<Record<string, CommandConfirmation>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at),
    index("audit_log_type_at_idx").on(t.commandType, t.at),
  ],
);

/** One service's answer to a command (`operator.command_result.v1`). */
export type CommandConfirmation = {
  result: "applied" | "refused";
  detail: string;
  reason?: string;
  at: string;
};

/**
 * Every event the gateway saw, in the order it saw them: the live stream's log (`seq` is
 * the SSE id a reconnecting client resumes from with Last-Event-ID) and the source of the
 * journey and outreach views. Pruned by age.
 */
export const streamEvents = gateway.table(
  "stream_events",
  {
    seq: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: text().notNull().unique(),
    topic: text().notNull(),
    type: text().notNull(),
    /** The envelope's subject: a lead id, `segment:<name>`, `operator:global`… */
    subject: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    /** The event's data, as published (rendered escaped, links only for http(s)). */
    data: jsonb().$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index("stream_events_subject_idx").on(t.subject, t.seq),
    index("stream_events_topic_idx").on(t.topic, t.seq),
  ],
);

/** The lead queue as the events describe it. */
export const leadView = gateway.table(
  "leads",
  {
    leadId: text().primaryKey(),
    name: text(),
    company: text(),
    email: text(),
    score: real(),
    tier: text(),
    segment: text(),
    /** new · scored · requested · contacted · replied · converted · opted_out · … */
    status: text().notNull().default("new"),
    reasons: jsonb()
      .$type<{ code: string; label: string; contribution: number }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
    priority: integer(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("leads_updated_idx").on(t.updatedAt), index("leads_score_idx").on(t.score)],
);

/** Each variant's standing per segment, from the engine's posterior snapshots and status changes. */
export const armView = gateway.table(
  "arms",
  {
    segment: text().notNull(),
    variantId: text().notNull(),
    mean: real(),
    low: real(),
    high: real(),
    pBest: real(),
    exposures: integer().notNull().default(0),
    successes: integer().notNull().default(0),
    status: text().notNull().default("active"),
    statusReason: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.segment, t.variantId] })],
);

/**
 * Decisions the engine holds for an operator's approval (`experiment.decision_held.v1`)
 * and how each ended (`experiment.decision_resolved.v1`): the approval queue.
 */
export const approvalView = gateway.table(
  "approvals",
  {
    requestId: text().primaryKey(),
    leadId: text().notNull(),
    segment: text().notNull(),
    variantId: text().notNull(),
    /** The held outreach.requested.v1 data (null when only its resolution was seen). */
    request: jsonb().$type<Record<string, unknown>>(),
    /** First name, company and role as the engine knew them. */
    lead: jsonb().$type<{ firstName?: string; company?: string; role?: string }>(),
    heldAt: timestamp({ withTimezone: true }),
    /** approved · rejected · withdrawn; null while it waits. */
    resolution: text({ enum: ["approved", "rejected", "withdrawn"] }),
    resolvedBy: text(),
    resolvedReason: text(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("approvals_waiting_idx").on(t.heldAt).where(sql`${t.resolution} is null`)],
);

/**
 * The built-in scoring model's versions, from `model.version_activated.v1`, and the refits
 * that lost (`model.candidate_rejected.v1`): stored versions that were never active.
 */
export const modelVersionView = gateway.table("model_versions", {
  version: integer().primaryKey(),
  name: text().notNull(),
  /** initial · online_update (earlier releases) · refit · rollback · rejected */
  cause: text().notNull(),
  /** Scoring's words; for a rejected candidate, the holdout's verdict. */
  reason: text().notNull(),
  /** The version active before it (for a rejected candidate: the one that stayed active). */
  previousVersion: integer(),
  /** A rollback: whose weights came back. */
  restoredFrom: integer(),
  weights: jsonb().$type<Record<string, number>>().notNull(),
  /** An online update's outcome and what the previous version predicted for it. */
  evaluation: jsonb().$type<{ label: 0 | 1; predicted: number }>(),
  /** A refit (promoted or not): its and the then-active version's figures on one holdout. */
  holdout: jsonb().$type<ModelCandidateRejectedV1["data"]["holdout"]>(),
  /** The tiers' probability cut-offs it scores with (absent before refits, and when rejected). */
  tiers: jsonb().$type<TierCutoffs>(),
  /** A refit that did not beat the active version: never active, never superseding one. */
  rejected: boolean().notNull().default(false),
  /** When scoring activated it (a rejected candidate: when it was judged). */
  activatedAt: timestamp({ withTimezone: true }).notNull(),
});
