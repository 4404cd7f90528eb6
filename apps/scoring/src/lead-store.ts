/**
 * Scoring's SQL for leads: the inbox claim, the leads and their recent signals
 * read (locked by the transaction that will change them), and the new signals,
 * lead rows and outbox events written back — one statement each, however many
 * events a transaction applies.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { and, desc, gte, inArray, sql } from "drizzle-orm";
import type { LeadRow, ScoredEvent } from "./decision.ts";
import type { Engagement, Signal } from "./model/features.ts";
import { outbox } from "./outbox.ts";
import type { StoredProfile } from "./profile.ts";

/** A lead as stored (undefined before its first event) and its signals in the window, newest first. */
export type LeadState = { row: LeadRow | undefined; signals: Signal[] };
export type NewSignal = typeof schema.signals.$inferInsert;

export const profileOf = (row: LeadRow | undefined): StoredProfile => row?.profile ?? {};
export const engagementOf = (row: LeadRow | undefined): Engagement => row?.engagement ?? {};

/** Marks the events processed by `consumer`; returns the ids seen for the first time. */
export async function claimEvents(
  tx: Executor,
  consumer: string,
  eventIds: string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const inserted = await tx
    .insert(schema.scoringInbox)
    .values([...new Set(eventIds)].map((eventId) => ({ consumer, eventId })))
    .onConflictDoNothing()
    .returning({ eventId: schema.scoringInbox.eventId });
  return new Set(inserted.map((r) => r.eventId));
}

/** Each lead with its signals since `since`; `lock` takes the stored rows for update. */
export async function loadLeads(
  db: Executor,
  leadIds: string[],
  since: Date,
  { lock }: { lock: boolean },
): Promise<Map<string, LeadState>> {
  const state = new Map<string, LeadState>();
  if (leadIds.length === 0) return state;
  const q = db.select().from(schema.leads).where(inArray(schema.leads.leadId, leadIds));
  const rows = lock ? await q.for("update") : await q;
  const signals = await db
    .select({
      leadId: schema.signals.leadId,
      kind: schema.signals.kind,
      occurredAt: schema.signals.occurredAt,
      url: schema.signals.url,
    })
    .from(schema.signals)
    .where(and(inArray(schema.signals.leadId, leadIds), gte(schema.signals.occurredAt, since)))
    .orderBy(desc(schema.signals.occurredAt));
  const byId = new Map(rows.map((r) => [r.leadId, r]));
  for (const id of leadIds) state.set(id, { row: byId.get(id), signals: [] });
  for (const { leadId, ...signal } of signals) state.get(leadId)?.signals.push(signal);
  return state;
}

/** Signals are keyed by (lead, event): writing one twice keeps the first. */
export async function insertSignals(tx: Executor, signals: NewSignal[]): Promise<void> {
  if (signals.length === 0) return;
  await tx.insert(schema.signals).values(signals).onConflictDoNothing();
}

/** Upserts the lead rows and enqueues the events on the outbox, in the caller's transaction. */
export async function writeLeads(
  tx: Executor,
  rows: LeadRow[],
  events: ScoredEvent[],
): Promise<void> {
  if (rows.length > 0) {
    await tx
      .insert(schema.leads)
      .values(rows)
      .onConflictDoUpdate({
        target: schema.leads.leadId,
        set: {
          profile: sql`excluded.profile`,
          engagement: sql`excluded.engagement`,
          contactable: sql`excluded.contactable`,
          score: sql`excluded.score`,
          tier: sql`excluded.tier`,
          segment: sql`excluded.segment`,
          version: sql`excluded.version`,
          updatedAt: sql`excluded.updated_at`,
        },
      });
  }
  await outbox.enqueue(tx, Topics.leadScored, events);
}
