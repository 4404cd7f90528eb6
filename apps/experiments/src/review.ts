/**
 * The periodic review after posteriors move: decay evidence (campaigns configured to
 * forget), pause arms over a guardrail (a backstop: outcomes run the same test as
 * they arrive), start a segment over when an arm's recent rate departs from its long
 * run (change detection, re-testing its suppressed arms), suppress arms that stay
 * unlikely to be best, announce each change and each segment left with nothing to send, and
 * publish a posterior snapshot per segment. Runs under a lock on the arms, so two instances
 * reviewing at once see one another's changes in turn.
 */
import { applySuppression, probabilityBest } from "@pw/bandit";
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { envelope } from "@pw/events";
import { and, eq, sql } from "drizzle-orm";
import { detectChange } from "./change.ts";
import type { EngineContext } from "./context.ts";
import { posteriorSummary, suppressionReason } from "./explain.ts";
import { armEvidence, guardrailBreach, guardrailReason } from "./guardrails.ts";
import { judgeInFlight } from "./in-flight.ts";
import { publishUpdate, SOURCE, statusChanged } from "./publish.ts";
import { reconcileSegments } from "./segments.ts";
import { liveVariants, loadArms } from "./store.ts";

export function reviewBuilder(ctx: EngineContext) {
  const { db, now, policy, rng, suppression, halfLifeMs, change } = ctx;
  const { guardrails: guard, reward } = ctx.settings;
  /** Consecutive low-P(best) reviews per segment/variant (in memory: a restart starts counting again). */
  const lowChecks = new Map<string, number>();

  /** Forgets at a steady rate, by elapsed time: idempotent whoever reviews, however often. */
  async function decayEvidence(tx: Executor) {
    const factor = sql`power(0.5, greatest(extract(epoch from (${now()}::timestamptz - ${schema.arms.decayedAt})) * 1000, 0) / ${halfLifeMs})`;
    await tx.update(schema.arms).set({
      successes: sql`${schema.arms.successes} * ${factor}`,
      failures: sql`${schema.arms.failures} * ${factor}`,
      decayedAt: now(),
    });
  }

  async function setStatus(
    tx: Executor,
    arm: { segment: string; variantId: string },
    to: "paused" | "suppressed",
    reason: string,
  ) {
    await tx
      .update(schema.arms)
      .set({ status: to, statusReason: reason, updatedAt: now() })
      .where(and(eq(schema.arms.segment, arm.segment), eq(schema.arms.variantId, arm.variantId)));
    await statusChanged(tx, { ...arm, from: "active", to, reason, by: "engine", at: now() });
  }

  /** Returns the changes made, as `segment/variant` (with ` (guardrail)` for a pause). */
  async function review(): Promise<string[]> {
    return db.transaction(async (tx) => {
      await tx.select({ s: schema.arms.segment }).from(schema.arms).for("update");
      if (halfLifeMs > 0) await decayEvidence(tx);
      const rows = await tx.select().from(schema.arms);
      const live = new Set((await liveVariants(tx)).map((v) => v.variantId));
      // Judged as decisions are: sends in flight count as their likely failures.
      const bySegment = await judgeInFlight(
        tx,
        ctx.priors(await loadArms(tx, [])),
        now(),
        ctx.windowMs,
      );
      const changed: string[] = [];
      for (const [segment, armStates] of bySegment) {
        const list = rows.filter((r) => r.segment === segment && live.has(r.variantId));
        for (const r of list) {
          // The backstop: the same test the outcomes run (learning.ts), for evidence that
          // never went through it — a limit lowered since, counts from before this check.
          if (r.status !== "active" || r.exposures < guard.minExposures) continue;
          const breach = guardrailBreach(armEvidence(r), guard);
          if (!breach) continue;
          const reason = guardrailReason(r, breach);
          await setStatus(tx, { segment, variantId: r.variantId }, "paused", reason);
          r.status = "paused";
          const s = armStates.find((a) => a.id === r.variantId);
          if (s) s.status = "paused";
          changed.push(`${segment}/${r.variantId} (guardrail)`);
        }
        if (change) {
          const r = await detectChange(tx, {
            segment,
            arms: armStates,
            rows: list,
            change,
            at: now(),
          });
          if (r.arms !== armStates) {
            armStates.splice(0, armStates.length, ...r.arms);
            for (const a of armStates) lowChecks.set(`${segment}/${a.id}`, 0);
            for (const r2 of list) if (r.revived.includes(r2.variantId)) r2.status = "active";
            changed.push(`${segment} (change detected)`);
            changed.push(...r.revived.map((v) => `${segment}/${v} (re-tested)`));
          }
        }
        for (const a of armStates) a.lowChecks = lowChecks.get(`${segment}/${a.id}`) ?? 0;
        const active = armStates.filter((a) => a.status === "active");
        const pBest =
          active.length > 0 ? probabilityBest(active, policy, rng) : new Map<string, number>();
        const suppressedNow: string[] = [];
        if (suppression && active.length >= 2) {
          const result = applySuppression(armStates, pBest, suppression);
          for (const a of result.arms) lowChecks.set(`${segment}/${a.id}`, a.lowChecks ?? 0);
          for (const variantId of result.suppressed) {
            const reason = suppressionReason(suppression);
            await setStatus(tx, { segment, variantId }, "suppressed", reason);
            suppressedNow.push(variantId);
            changed.push(`${segment}/${variantId}`);
          }
        }
        await publishUpdate(
          tx,
          envelope({
            type: "experiment.posterior_snapshot.v1",
            source: SOURCE,
            subject: `segment:${segment}`,
            data: {
              segment,
              reward: reward === "replied" ? "reply" : reward,
              arms: armStates.map((a) => {
                const row = list.find((r) => r.variantId === a.id);
                return {
                  variantId: a.id,
                  ...posteriorSummary(a, policy),
                  pBest: pBest.get(a.id) ?? 0,
                  exposures: a.exposures,
                  successes: Math.round(a.successes),
                  status: suppressedNow.includes(a.id) ? "suppressed" : (row?.status ?? a.status),
                };
              }),
              at: now().toISOString(),
            },
          }),
        );
      }
      // Segments its pauses and suppressions left with nothing to send (or that a playbook
      // change did, unannounced): announced with the changes that caused them.
      await reconcileSegments(tx, [...bySegment.keys()], now());
      return changed;
    });
  }

  return { review };
}
