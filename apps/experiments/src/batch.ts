/**
 * A drain's candidates decided as a batch (ADR 0016). Each lead's variant is chosen in
 * priority order — every lead of a segment from one P(best) estimate (posteriors do not
 * move inside a drain, only exposures do), its propensity logged from it, and later leads
 * seeing the sends chosen before them (burn-in, floor) — and its request written and
 * checked in memory; a lead whose request cannot be written is set aside with the reason
 * and the others go on. The batch is then recorded in one transaction (record.ts).
 * Only the copy can be slow (a vendor rewrite): when writing it has had to wait, the
 * decisions already written are recorded first, so no send waits on another lead's copy.
 */
import { probabilityBest } from "@pw/bandit";
import * as schema from "@pw/db/experiments";
import type { EngineContext } from "./context.ts";
import { DecisionError, decideFor } from "./decide.ts";
import { judgeInFlight } from "./in-flight.ts";
import { emptyBatch, recordBatch } from "./record.ts";
import { type FailedDecision, loadArms, type QueuedLead } from "./store.ts";

/** A queued lead, and whether it was on the do-not-contact list when the queue was read. */
export type Candidate = { lead: QueuedLead; listed: boolean };

/** The most decisions one transaction records (a drain may be given a whole day's capacity). */
const BATCH_MAX = 1_000;

/** True once the event loop has gone round since the call: the writer waited on I/O. */
function turnWatch(): () => boolean {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  return () => turned;
}

/**
 * Decides for `candidates` (highest priority first) until they are done or today's
 * capacity is spent; held for an operator instead when `held`.
 */
export async function decideBatch(
  ctx: EngineContext,
  candidates: Candidate[],
  o: { held: boolean; day: string },
): Promise<{ requested: number; pendingApproval: number; failed: FailedDecision[] }> {
  const { db, policy, rng } = ctx;
  const result = { requested: 0, pendingApproval: 0, failed: [] as FailedDecision[] };
  const segments = [...new Set(candidates.map((c) => c.lead.segment))];
  // Judged as the review judges them: sends in flight count as their likely failures.
  const armsBySegment = await db.transaction(async (tx) =>
    judgeInFlight(tx, ctx.priors(await loadArms(tx, segments)), ctx.now(), ctx.windowMs),
  );
  const playbook = await db.select().from(schema.playbook);
  const pBestCache = new Map<string, Map<string, number>>();
  let batch = emptyBatch();
  let waited = turnWatch();

  /** Records the batch; true when today's capacity is spent. */
  const flush = async (): Promise<boolean> => {
    const b = batch;
    batch = emptyBatch();
    waited = turnWatch();
    if (b.decided.length + b.listed.length + b.failed.length + b.blocked.length === 0) return false;
    const r = await db.transaction((tx) => recordBatch(ctx, tx, b, o));
    result.failed.push(...r.failed);
    if (o.held) result.pendingApproval += r.recorded.length;
    else result.requested += r.recorded.length;
    // Chosen, never sent: the leads decided after this batch must not count them.
    if (!o.held)
      for (const d of r.dropped) {
        const arm = armsBySegment.get(d.lead.segment)?.find((a) => a.id === d.decision.armId);
        if (arm) arm.exposures--;
      }
    return r.spent;
  };

  for (const { lead, listed } of candidates) {
    if (listed) {
      batch.listed.push(lead);
      continue;
    }
    const arms = armsBySegment.get(lead.segment) ?? [];
    const active = arms.filter((a) => a.status === "active");
    if (active.length === 0) {
      batch.blocked.push(lead);
      continue;
    }
    const key = `${lead.segment}\u0000${active.map((a) => a.id).join(",")}`;
    const pBest = pBestCache.get(key) ?? probabilityBest(active, policy, rng);
    pBestCache.set(key, pBest);
    try {
      const decided = await decideFor(ctx, lead, arms, pBest, playbook);
      batch.decided.push(decided);
      // Later leads in this drain see this send (burn-in counts, floor).
      if (!o.held) arms.find((a) => a.id === decided.decision.armId)!.exposures++;
    } catch (error) {
      // This lead's decision cannot be written; the next lead's may well be.
      if (!(error instanceof DecisionError)) throw error;
      batch.failed.push({ lead, variantId: error.variantId, reason: error.message });
    }
    if ((waited() || batch.decided.length >= BATCH_MAX) && (await flush())) return result;
  }
  await flush();
  return result;
}
