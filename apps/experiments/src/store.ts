/**
 * The engine's and the operator's shared reads and writes on the experiments
 * tables, each one statement however many leads or arms it touches. Counters move by
 * atomic SQL increments and today's capacity by an atomic conditional grant, so
 * concurrent instances never lose, double-count or overspend.
 */
import { type ArmState, GUARDRAIL_WINDOW_SENDS } from "@pw/bandit";
import { type Executor, queryRows } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { and, eq, sql } from "drizzle-orm";
import { DEFAULT_PLAYBOOK } from "./playbook.ts";

/** The inbox consumer name: a redelivered event counts once, whichever part handles it. */
export const CONSUMER = "experiments";

export type PlaybookRow = typeof schema.playbook.$inferSelect;
/**
 * A queued lead as deciding for it needs it: the columns the drain reads (each one more is
 * parsed for every candidate of every drain).
 */
export const leadColumns = {
  leadId: schema.queue.leadId,
  eventId: schema.queue.eventId,
  segment: schema.queue.segment,
  score: schema.queue.score,
  email: schema.queue.email,
  facts: schema.queue.facts,
  traceparent: schema.queue.traceparent,
  status: schema.queue.status,
  queuedAt: schema.queue.queuedAt,
};
export type QueuedLead = Pick<typeof schema.queue.$inferSelect, keyof typeof leadColumns>;

/**
 * Rows for a set-based statement, sent as one JSON parameter and read back as the record set
 * `v` (`shape`: `(col type, …)`): one statement and one bind value however many rows.
 */
export const jsonRows = (rows: object[], shape: string) =>
  sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v${sql.raw(shape)}`;

/** The capacity ledger's key: the UTC day. */
export const utcDay = (d: Date) => d.toISOString().slice(0, 10);

export async function seedPlaybook(db: Executor): Promise<void> {
  await db
    .insert(schema.playbook)
    .values(
      DEFAULT_PLAYBOOK.map((v) => ({
        ...v,
        delayDays: v.delayDays ?? 0,
        parentVariantId: v.parentVariantId ?? null,
        track: v.track ?? "experiment",
      })),
    )
    .onConflictDoNothing();
}

/**
 * Grants up to `n` of today's sends, atomically: k = min(n, perDay - used) in one
 * statement that locks the day's row first, so instances granting at once take turns and
 * never spend more than the day holds together. Returns k (0 when the day is spent).
 */
export async function grantCapacity(
  tx: Executor,
  day: string,
  n: number,
  perDay: number,
): Promise<number> {
  const grant = async () => {
    const [row] = await queryRows<{ granted: number }>(
      tx,
      sql`with today as (
            select ${schema.sendCapacity.used} as used from ${schema.sendCapacity}
            where ${schema.sendCapacity.day} = ${day} for update
          )
          update ${schema.sendCapacity} set used = ${schema.sendCapacity.used}
            + least(${n}::int, greatest(${perDay}::int - today.used, 0))
          from today where ${schema.sendCapacity.day} = ${day}
          returning (${schema.sendCapacity.used} - today.used)::int as granted`,
    );
    return row?.granted;
  };
  const granted = await grant();
  if (granted !== undefined) return granted;
  // The day's first grant: its row, then the same statement (another instance may have
  // inserted it meanwhile; the insert then waits for it and does nothing).
  await tx.insert(schema.sendCapacity).values({ day, used: 0 }).onConflictDoNothing();
  return (await grant()) ?? 0;
}

/**
 * One send of today's capacity: under the cap (false when spent), or always, for an
 * operator's explicit approval (`force`).
 */
export async function consumeCapacity(
  tx: Executor,
  day: string,
  perDay: number,
  force = false,
): Promise<boolean> {
  if (!force) return (await grantCapacity(tx, day, 1, perDay)) === 1;
  await tx
    .insert(schema.sendCapacity)
    .values({ day, used: 1 })
    .onConflictDoUpdate({
      target: schema.sendCapacity.day,
      set: { used: sql`${schema.sendCapacity.used} + 1` },
    });
  return true;
}

/**
 * Sends per arm (exposures are sends, not decisions held for approval), in one statement;
 * the recent guardrail window moves by the same step as @pw/bandit's
 * `recentGuardrailsAfterSends` (each send decays it by g, then adds its weight).
 */
export async function countExposures(
  tx: Executor,
  sends: { segment: string; variantId: string; n: number }[],
  at: Date,
): Promise<void> {
  if (sends.length === 0) return;
  const g = 1 - 1 / GUARDRAIL_WINDOW_SENDS;
  const keep = sql`power(${g}::float8, v.n)`;
  await tx.execute(
    sql`update ${schema.arms} set exposures = ${schema.arms.exposures} + v.n,
          recent_sends = ${schema.arms.recentSends} * ${keep} + (1 - ${keep}) / ${1 - g}::float8,
          recent_bounces = ${schema.arms.recentBounces} * ${keep},
          recent_unsubscribes = ${schema.arms.recentUnsubscribes} * ${keep},
          recent_negative_replies = ${schema.arms.recentNegativeReplies} * ${keep},
          updated_at = ${at.toISOString()}::timestamptz
        from ${jsonRows(sends, `(segment text, "variantId" text, n int)`)}
        where ${schema.arms.segment} = v.segment and ${schema.arms.variantId} = v."variantId"`,
  );
}

export async function countExposure(tx: Executor, segment: string, variantId: string, at: Date) {
  await countExposures(tx, [{ segment, variantId, n: 1 }], at);
}

/** A decision that could not be written, as the drain reports it. */
export type FailedDecision = { leadId: string; variantId: string; reason: string };

/**
 * Takes leads out of the queue with the reason their decision could not be written
 * (`rejected`, the reason in the note) — only those still as they were read (same status,
 * same event). Returns them as the drain reports them.
 */
export async function setAside(
  tx: Executor,
  failed: { lead: QueuedLead; variantId: string; reason: string }[],
  at: Date,
): Promise<FailedDecision[]> {
  if (failed.length === 0) return [];
  const rows = failed.map((f) => ({
    lead_id: f.lead.leadId,
    event_id: f.lead.eventId,
    status: f.lead.status,
    note: `decision failed (variant ${f.variantId}): ${f.reason}`.slice(0, 2_000),
  }));
  await tx.execute(
    sql`update ${schema.queue} set status = 'rejected', note = v.note,
          resolved_at = ${at.toISOString()}::timestamptz
        from ${jsonRows(rows, "(lead_id text, event_id text, status text, note text)")}
        where ${schema.queue.leadId} = v.lead_id and ${schema.queue.eventId} = v.event_id
          and ${schema.queue.status} = v.status`,
  );
  return failed.map((f) => ({ leadId: f.lead.leadId, variantId: f.variantId, reason: f.reason }));
}

export async function onDoNotContact(tx: Executor, leadId: string): Promise<boolean> {
  const [row] = await tx
    .select({ leadId: schema.doNotContact.leadId })
    .from(schema.doNotContact)
    .where(eq(schema.doNotContact.leadId, leadId));
  return Boolean(row);
}

/** The live first-touch arms of the experiment track (email: the channel the engine decides for). */
export async function liveVariants(tx: Executor): Promise<PlaybookRow[]> {
  return tx
    .select()
    .from(schema.playbook)
    .where(
      and(
        eq(schema.playbook.retired, false),
        eq(schema.playbook.cadenceStep, 0),
        eq(schema.playbook.track, "experiment"),
        eq(schema.playbook.channel, "email"),
      ),
    );
}

/** Every segment's live arms, sorted by variant (creating missing ones for `segments`). */
export async function loadArms(tx: Executor, segments: string[]): Promise<Map<string, ArmState[]>> {
  const variants = await liveVariants(tx);
  const missing = segments.flatMap((segment) =>
    variants.map((v) => ({ segment, variantId: v.variantId })),
  );
  if (missing.length > 0) await tx.insert(schema.arms).values(missing).onConflictDoNothing();
  const rows = await tx.select().from(schema.arms);
  const live = new Set(variants.map((v) => v.variantId));
  const bySegment = new Map<string, ArmState[]>();
  for (const r of rows) {
    if (!live.has(r.variantId)) continue;
    const list = bySegment.get(r.segment) ?? [];
    list.push({
      id: r.variantId,
      successes: r.successes,
      failures: r.failures,
      exposures: r.exposures,
      status: r.status,
    });
    bySegment.set(r.segment, list);
  }
  for (const list of bySegment.values()) list.sort((a, b) => a.id.localeCompare(b.id));
  return bySegment;
}
