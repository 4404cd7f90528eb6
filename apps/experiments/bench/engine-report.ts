/**
 * What the engine said about guardrails during a `pnpm sim:engine` run, read where it
 * wrote it: the `experiment.updates.v1` events in its outbox (a variant paused by the
 * engine with its reason, a segment blocked or unblocked) and each arm's counters.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { Topics } from "@pw/events";
import { asc, eq } from "drizzle-orm";

const WATCHED = new Set([
  "experiment.variant_status_changed.v1",
  "experiment.segment_blocked.v1",
  "experiment.segment_unblocked.v1",
]);

/**
 * The engine's guardrail pauses and segment (un)blocks in publish order. `leadsBy(at)`
 * is how many leads had been decided by that time on the simulated clock.
 */
export async function guardrailEvents(db: Executor, leadsBy: (at: Date) => number) {
  const rows = await db
    .select({ payload: schema.experimentsOutbox.payload })
    .from(schema.experimentsOutbox)
    .where(eq(schema.experimentsOutbox.topic, Topics.experimentUpdates))
    .orderBy(asc(schema.experimentsOutbox.id));
  return rows.flatMap(({ payload }) => {
    const e = payload as { type: string; data: Record<string, unknown> };
    if (!WATCHED.has(e.type)) return [];
    const d = e.data as { segment: string; variantId?: string; to?: string; by?: string };
    // Status changes by the engine that are pauses: suppressions are reported by review().
    if (
      e.type === "experiment.variant_status_changed.v1" &&
      (d.to !== "paused" || d.by !== "engine")
    )
      return [];
    const at = new Date(String(e.data.at));
    return [
      {
        event: e.type.replace(/^experiment\.|\.v1$/g, ""),
        segment: d.segment,
        ...(d.variantId ? { variant: d.variantId } : {}),
        reason: String(e.data.reason),
        atLead: leadsBy(at),
        at: at.toISOString(),
      },
    ];
  });
}

/** Each arm as the engine ended: sends, reward, guardrail evidence, status and why. */
export async function armsReport(db: Executor) {
  const arms = await db
    .select()
    .from(schema.arms)
    .orderBy(asc(schema.arms.segment), asc(schema.arms.variantId));
  return arms.map((a) => ({
    segment: a.segment,
    variant: a.variantId,
    sends: a.exposures,
    meetings: a.successes,
    bounces: a.bounces,
    unsubscribes: a.unsubscribes,
    negativeReplies: a.negativeReplies,
    status: a.status,
    ...(a.statusReason ? { reason: a.statusReason } : {}),
  }));
}
