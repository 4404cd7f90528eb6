/**
 * Whether each segment has a variant it may send. When the last live variant of a
 * segment is paused or suppressed, the segment is blocked (`experiment.segment_blocked.v1`,
 * naming each variant and why); when one may send again, unblocked
 * (`experiment.segment_unblocked.v1`). Called in the transaction that changed a variant's
 * standing or the playbook, so the announcement commits with its cause (outbox); the
 * stored flag (`segments.blocked`) makes each change announced once, and the segment's row
 * lock — taken after any arm rows, segments in name order — orders two instances changing
 * one segment, so the second sees the first's change.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { eq, inArray } from "drizzle-orm";
import { segmentBlockedReason, segmentUnblockedReason } from "./explain.ts";
import { segmentChanged } from "./publish.ts";
import { liveVariants } from "./store.ts";

/** Every segment the engine has arms for, in name order. */
export async function knownSegments(tx: Executor): Promise<string[]> {
  const rows = await tx.selectDistinct({ segment: schema.arms.segment }).from(schema.arms);
  return rows.map((r) => r.segment).sort();
}

/**
 * Brings each segment's blocked flag up to date with its variants and announces each
 * change. `cause` says what was done when that unblocks a segment ("roi resumed by …").
 * Returns the segments whose flag changed, as `segment (blocked|unblocked)`.
 */
export async function reconcileSegments(
  tx: Executor,
  segments: string[],
  at: Date,
  cause?: string,
): Promise<string[]> {
  const names = [...new Set(segments)].sort();
  if (names.length === 0) return [];
  await tx
    .insert(schema.segments)
    .values(names.map((segment) => ({ segment, changedAt: at })))
    .onConflictDoNothing();
  // Locked in name order: concurrent reconcilers cannot deadlock on one another.
  const flags = await tx
    .select()
    .from(schema.segments)
    .where(inArray(schema.segments.segment, names))
    .orderBy(schema.segments.segment)
    .for("update");
  // Read after the lock: a change another instance committed meanwhile is seen.
  const live = (await liveVariants(tx)).map((v) => v.variantId).sort();
  const arms = await tx.select().from(schema.arms).where(inArray(schema.arms.segment, names));
  const changed: string[] = [];
  for (const flag of flags) {
    const { segment } = flag;
    const standing = live.map((variantId) => {
      const arm = arms.find((a) => a.segment === segment && a.variantId === variantId);
      // A live variant without an arm here yet gets one, active, at the next decision.
      return { variantId, status: arm?.status ?? "active", reason: arm?.statusReason ?? undefined };
    });
    const active = standing.filter((v) => v.status === "active").map((v) => v.variantId);
    const blocked = active.length === 0;
    if (blocked === flag.blocked) continue;
    const reason = blocked
      ? segmentBlockedReason(segment, standing)
      : segmentUnblockedReason(segment, active, cause);
    await tx
      .update(schema.segments)
      .set({ blocked, reason, changedAt: at })
      .where(eq(schema.segments.segment, segment));
    await segmentChanged(
      tx,
      blocked
        ? { blocked, segment, reason, variants: standing, at }
        : { blocked, segment, reason, active, at },
    );
    changed.push(`${segment} (${blocked ? "blocked" : "unblocked"})`);
  }
  return changed;
}
