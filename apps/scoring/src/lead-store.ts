/**
 * Scoring's SQL for leads: the inbox claim, the leads and their recent signals
 * read (locked by the transaction that will change them), and the new signals,
 * lead rows and outbox events written back — one statement each, however many
 * events a transaction applies.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { and, asc, desc, gte, inArray, sql } from "drizzle-orm";
import type { LeadRow, ScoredEvent } from "./decision.ts";
import type { Engagement, Signal } from "./model/features.ts";
import { outbox } from "./outbox.ts";
import type { StoredProfile } from "./profile.ts";

/** A lead as stored (undefined before its first event) and its signals in the window, newest first. */
export type LeadState = { row: LeadRow | undefined; signals: Signal[] };
export type NewSignal = typeof schema.signals.$inferInsert;

/**
 * The empty row `loadLeads` inserts to lock a new lead: no event has been applied
 * to it (every write bumps the version), so the lead is still unknown. It never
 * outlives its transaction: the handler that inserted it writes the lead.
 */
const isPlaceholder = (row: LeadRow): boolean => row.version === 0;

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

/**
 * Each lead with its signals since `since`. `lock` takes every lead's row for
 * update — new leads included: `select … for update` locks nothing for a row
 * that does not exist yet, so two transactions handling a new lead's first
 * events would both read "no lead" and the second write would overwrite the
 * first. An empty row (version 0) is inserted first, `on conflict do nothing`,
 * so the second waits on the first's insert and then reads what it wrote.
 * Rows are taken in lead id order, so batches that share leads cannot deadlock.
 */
export async function loadLeads(
  db: Executor,
  leadIds: string[],
  since: Date,
  { lock }: { lock: boolean },
): Promise<Map<string, LeadState>> {
  const state = new Map<string, LeadState>();
  if (leadIds.length === 0) return state;
  const ordered = [...new Set(leadIds)].sort();
  if (lock) {
    await db
      .insert(schema.leads)
      .values(ordered.map((leadId) => ({ leadId })))
      .onConflictDoNothing();
  }
  const q = db
    .select()
    .from(schema.leads)
    .where(inArray(schema.leads.leadId, ordered))
    .orderBy(asc(schema.leads.leadId));
  const rows = (lock ? await q.for("update") : await q).filter((r) => !isPlaceholder(r));
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
