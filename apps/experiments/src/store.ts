/**
 * The engine's and the operator's shared reads and writes on the experiments
 * tables. Counters move by atomic SQL increments and today's capacity by an atomic
 * conditional increment, so concurrent instances never lose, double-count or
 * overspend.
 */
import type { ArmState } from "@pw/bandit";
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { and, eq, lt, sql } from "drizzle-orm";
import { DEFAULT_PLAYBOOK } from "./playbook.ts";

/** The inbox consumer name: a redelivered event counts once, whichever part handles it. */
export const CONSUMER = "experiments";

export type PlaybookRow = typeof schema.playbook.$inferSelect;
export type QueuedLead = typeof schema.queue.$inferSelect;

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
 * Today's capacity, atomically: +1 only while under the cap (or always, for an
 * operator's explicit approval). False when spent: the conditional update then
 * touches no row and returns nothing.
 */
export async function consumeCapacity(
  tx: Executor,
  day: string,
  perDay: number,
  force = false,
): Promise<boolean> {
  const rows = await tx
    .insert(schema.sendCapacity)
    .values({ day, used: 1 })
    .onConflictDoUpdate({
      target: schema.sendCapacity.day,
      set: { used: sql`${schema.sendCapacity.used} + 1` },
      ...(force ? {} : { setWhere: lt(schema.sendCapacity.used, perDay) }),
    })
    .returning({ used: schema.sendCapacity.used });
  return rows.length === 1;
}

/** Counts one send on the arm (exposures are sends, not decisions held for approval). */
export async function countExposure(tx: Executor, segment: string, variantId: string, at: Date) {
  await tx
    .update(schema.arms)
    .set({ exposures: sql`${schema.arms.exposures} + 1`, updatedAt: at })
    .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, variantId)));
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
