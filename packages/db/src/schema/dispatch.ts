/** Tables owned by apps/dispatch (Postgres schema `dispatch`). */
import type { Channel, FollowUpStep } from "@pw/events";
import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { inboxTable, outboxTable } from "./messaging.ts";

export const dispatch = pgSchema("dispatch");

export const dispatchOutbox = outboxTable(dispatch);
export const dispatchInbox = inboxTable(dispatch);

const SEND_STATES = ["scheduled", "sending", "sent", "failed", "skipped"] as const;
/**
 * scheduled: waiting for its due time (a first touch is due at once, a follow-up after
 * its delay, a deferred one at the next allowed minute); sending: claimed by one
 * instance, whose lease ends at `leaseUntil` (then another may claim it and ask the agent
 * again with the same key, which replays instead of sending twice); the rest are final.
 */
export type SendState = (typeof SEND_STATES)[number];

/** One row per (lead, request, step): the durable timer and the send's state machine. */
export const sends = dispatch.table(
  "sends",
  {
    /** `<requestId>#<step>`: the idempotency key end to end (agent, Lightfield). */
    key: text().primaryKey(),
    leadId: text().notNull(),
    requestId: text().notNull(),
    step: integer().notNull(),
    track: text({ enum: ["experiment", "nurture"] as const }).notNull(),
    segment: text().notNull(),
    variantId: text().notNull(),
    channel: text({
      enum: ["email", "linkedin", "slack", "in_app"] as const satisfies readonly Channel[],
    }).notNull(),
    to: text().notNull(),
    /** The recipient's mail domain (lower case) for per-domain caps; null off e-mail. */
    domain: text(),
    subject: text().notNull(),
    body: text().notNull(),
    priority: integer().notNull().default(0),
    timeZone: text(),
    /** The steps still to come after this one (each scheduled when this one is sent). */
    followUps: jsonb().$type<FollowUpStep[]>().notNull().default([]),
    /** Why the engine chose it, for the Lightfield note. */
    why: text(),
    state: text({ enum: SEND_STATES }).notNull().default("scheduled"),
    dueAt: timestamp({ withTimezone: true }).notNull(),
    leaseUntil: timestamp({ withTimezone: true }),
    attempts: integer().notNull().default(0),
    /** Final reason (skipped / failed) or the latest deferral's. */
    reason: text(),
    dispatchId: text(),
    providerMessageId: text(),
    traceparent: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("sends_due_idx").on(t.dueAt).where(sql`${t.state} = 'scheduled'`),
    index("sends_lease_idx").on(t.leaseUntil).where(sql`${t.state} = 'sending'`),
    index("sends_lead_idx").on(t.leadId),
  ],
);

/** What dispatch knows about a lead's consent and recent touches. */
export const leadContact = dispatch.table("leads", {
  leadId: text().primaryKey(),
  /** Set once the lead opted out / hard-bounced / was put on do-not-contact: never contacted. */
  optedOutAt: timestamp({ withTimezone: true }),
  optOutReason: text(),
  /** An operator's lead suppression: sends wait (skipped) until lifted. */
  suppressed: boolean().notNull().default(false),
  /**
   * The lead answered (replied, booked, converted): cadences created before this stop.
   * A new request after it starts a new cadence.
   */
  stoppedAt: timestamp({ withTimezone: true }),
  stopReason: text(),
  lastTouchAt: timestamp({ withTimezone: true }),
  /** The send that took the latest touch slot (a send retried after a crash keeps its own). */
  lastTouchKey: text(),
  lastNurtureAt: timestamp({ withTimezone: true }),
  updatedAt: timestamp({ withTimezone: true }).notNull(),
});

/**
 * Cap counters: `scope` is `domain:<d>`, `channel:<c>` or `nurture`, `bucket` the hour or
 * day (UTC, ISO) it counts. A slot is reserved with one conditional upsert, so instances
 * never overshoot a cap together; a send that does not go out gives its slot back.
 */
export const capCounters = dispatch.table(
  "cap_counters",
  {
    scope: text().notNull(),
    bucket: text().notNull(),
    used: integer().notNull().default(0),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.bucket] })],
);

/** Operator switches as dispatch last saw them (the kill switch). */
export const controls = dispatch.table("controls", {
  name: text().primaryKey(),
  engaged: boolean().notNull(),
  by: text(),
  reason: text(),
  /** The command's time: an older command never overrides a newer one. */
  at: timestamp({ withTimezone: true }).notNull(),
});

const WRITEBACK_STATES = ["pending", "done", "failed"] as const;
export type WritebackState = (typeof WRITEBACK_STATES)[number];

/** Lightfield write-backs queued by sends; worked off without ever blocking a send. */
export const writebacks = dispatch.table(
  "writebacks",
  {
    /** The send's key; the Lightfield Idempotency-Key is derived from it. */
    sendKey: text().primaryKey(),
    leadId: text().notNull(),
    /** The Lightfield contact id. */
    contactId: text().notNull(),
    kind: text({ enum: ["note", "task"] as const }).notNull(),
    title: text().notNull(),
    content: text().notNull(),
    state: text({ enum: WRITEBACK_STATES }).notNull().default("pending"),
    attempts: integer().notNull().default(0),
    nextAt: timestamp({ withTimezone: true }).notNull(),
    lastError: text(),
    lightfieldId: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    doneAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("writebacks_next_idx").on(t.nextAt).where(sql`${t.state} = 'pending'`)],
);
