/**
 * Change detection at review time (ADR 0015): a segment whose variant's recent rate
 * departed from its long-run rate (both of sends whose window closed) starts over from recent evidence, its suppressed
 * variants re-tested — written, announced (`experiment.change_detected.v1`, one
 * status change per revived variant) and returned in the same transaction, under the
 * review's lock on the arms.
 */
import { type ArmState, type ChangeOptions, changedArms, changeScore, restart } from "@pw/bandit";
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { envelope } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { publishUpdate, SOURCE, statusChanged } from "./publish.ts";

type ArmRow = typeof schema.arms.$inferSelect;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const rate = (s: number, f: number) => (s + f > 0 ? s / (s + f) : 0);

/** "roi's rate moved from 4.9% to 2.1% per send" for each changed variant. */
export function changeReason(segment: string, changed: ChangedArm[], revived: string[]): string {
  const moves = changed
    .map((c) => `'${c.variantId}' ${pct(c.longRunRate)} → ${pct(c.recentRate)}`)
    .join(", ");
  const retest =
    revived.length > 0 ? `; re-testing ${revived.map((v) => `'${v}'`).join(", ")}` : "";
  return `The market moved in ${segment}: recent rate per send ${moves}. Learning starts over from recent outcomes${retest}.`;
}

type ChangedArm = { variantId: string; recentRate: number; longRunRate: number; score: number };

/**
 * Tests the segment's arms; on a change, writes the restarted evidence and statuses and
 * announces them. Returns the segment's arms as they now stand (the input when nothing
 * changed) and the revived variants.
 */
export async function detectChange(
  tx: Executor,
  o: { segment: string; arms: ArmState[]; rows: ArmRow[]; change: ChangeOptions; at: Date },
): Promise<{ arms: ArmState[]; revived: string[] }> {
  const { segment, rows, change, at } = o;
  const withRecent = o.arms.map((a) => {
    const row = rows.find((r) => r.variantId === a.id);
    return row
      ? {
          ...a,
          recent: { successes: row.recentSuccesses, failures: row.recentFailures },
          closed: { successes: row.closedSuccesses, failures: row.closedFailures },
        }
      : a;
  });
  const moved = changedArms(withRecent, change);
  if (moved.length === 0) return { arms: o.arms, revived: [] };
  const changed = withRecent
    .filter((a) => moved.includes(a.id))
    .map((a) => ({
      variantId: a.id,
      recentRate: rate(a.recent!.successes, a.recent!.failures),
      longRunRate: rate(a.closed!.successes, a.closed!.failures),
      score: Math.round(changeScore(a, change) * 100) / 100,
    }));
  const arms = restart(withRecent, change);
  const revived = withRecent.filter((a, i) => a.status !== arms[i]!.status).map((a) => a.id);
  const reason = changeReason(segment, changed, revived);
  for (const a of arms) {
    const back = revived.includes(a.id);
    await tx
      .update(schema.arms)
      .set({
        successes: a.successes,
        failures: a.failures,
        recentSuccesses: a.recent!.successes,
        recentFailures: a.recent!.failures,
        closedSuccesses: a.closed!.successes,
        closedFailures: a.closed!.failures,
        ...(back ? { status: "active" as const, statusReason: null } : {}),
        updatedAt: at,
      })
      .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, a.id)));
    if (back)
      await statusChanged(tx, {
        segment,
        variantId: a.id,
        from: "suppressed",
        to: "active",
        reason: reason.slice(0, 1000),
        by: "engine",
        at,
      });
  }
  await publishUpdate(
    tx,
    envelope({
      type: "experiment.change_detected.v1",
      source: SOURCE,
      subject: `segment:${segment}`,
      data: { segment, reason: reason.slice(0, 2000), changed, revived, at: at.toISOString() },
    }),
  );
  return { arms, revived };
}
