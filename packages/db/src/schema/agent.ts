/**
 * Tables owned by apps/outreach-agent (Postgres schema `agent`): its idempotency keys
 * and the simulated inbox. Hosted on Truefoundry it has its own database; in the
 * one-process demo it shares the embedded one.
 */
import { sql } from "drizzle-orm";
import { bigint, index, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";

export const agent = pgSchema("agent");

const DISPATCH_STATES = ["sending", "sent", "failed"] as const;
export type AgentDispatchState = (typeof DISPATCH_STATES)[number];

/** One row per Idempotency-Key: a repeat replays the answer instead of sending again. */
export const agentDispatches = agent.table(
  "dispatches",
  {
    idempotencyKey: text().primaryKey(),
    dispatchId: text().notNull().unique(),
    /** sha256 of the request body: the same key with another body is refused. */
    requestHash: text().notNull(),
    leadId: text().notNull(),
    channel: text().notNull(),
    state: text({ enum: DISPATCH_STATES }).notNull(),
    providerMessageId: text(),
    error: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("agent_dispatches_created_idx").on(t.createdAt)],
);

/** The simulated inbox: exactly what a lead would have received (the demo's channel). */
export const agentInbox = agent.table(
  "inbox",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    dispatchId: text().notNull(),
    leadId: text().notNull(),
    channel: text().notNull(),
    to: text().notNull(),
    subject: text().notNull(),
    text: text().notNull(),
    html: text(),
    headers: jsonb().$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("agent_inbox_lead_idx").on(t.leadId)],
);
