/**
 * Refits of the built-in model (ADR 0017). Once `everyLabels` sends were labelled since
 * the last refit, a candidate is fitted on the recent labelled sends — warm-started from
 * the active version, pulled towards the hand-set priors — and judged with the active
 * version on the newest of them, which it was not trained on. It becomes the active
 * version only if it beats it; otherwise it is kept as a rejected version with its
 * figures. Either way the version records what it was judged on, and its tiers are
 * percentiles of its own probabilities over recently scored leads.
 *
 * Outside every event's transaction: labelling a send never waits for a fit, and a fit
 * never holds a lock while it computes. Replicas race harmlessly: the write re-checks
 * under the active row's lock that nobody refitted on these labels meanwhile.
 */
import type { Db, Executor } from "@pw/db";
import * as schema from "@pw/db/scoring";
import type { ModelMetrics } from "@pw/events";
import type { Logger } from "@pw/logger";
import { and, desc, gt, isNotNull, sql } from "drizzle-orm";
import type { RefitSettings } from "./config.ts";
import { INITIAL_WEIGHTS, sigmoid, type Weights } from "./model/builtin.ts";
import { fitLogistic, holdoutSplit, shouldPromote, tierThresholds } from "./model/fit.ts";
import { evaluate, logitOf, type Metrics, pairedGain } from "./model/metrics.ts";
import {
  activeModel,
  lastRefitCutoff,
  type ModelVersion,
  saveNewVersion,
  saveRejected,
} from "./model-store.ts";

/** The tiers a refit sets: hot = the top 10% of recently scored leads, warm the next 50%. */
export const TIER_SHARES = { hot: 0.1, warm: 0.6 } as const;

export type RefitResult =
  | { outcome: "not_due"; labels: number }
  | { outcome: "raced" }
  | {
      outcome: "promoted" | "rejected";
      version: number;
      verdict: string;
      holdout: schema.ModelHoldout;
    };

const examples = schema.examples;

/** As announced: no NaN (an AUC needs both classes; a figure with no examples is 0). */
function metricsOf(m: Metrics): ModelMetrics {
  const finite = (x: number) => (Number.isFinite(x) ? x : 0);
  return {
    n: m.n,
    positives: m.positives,
    baseRate: finite(m.baseRate),
    meanPredicted: finite(m.meanPredicted),
    auc: Number.isFinite(m.auc) ? m.auc : null,
    logLoss: finite(m.logLoss),
    ece: finite(m.ece),
  };
}

async function labelsSince(db: Executor, cutoff: Date | undefined): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(examples)
    .where(
      cutoff
        ? and(isNotNull(examples.label), gt(examples.labelledAt, cutoff))
        : isNotNull(examples.label),
    );
  return Number(row?.n ?? 0);
}

export function refitter(deps: {
  db: Db;
  settings: RefitSettings;
  now: () => Date;
  /** Called with the version that became active (this instance scores with it at once). */
  onPromoted?: (model: ModelVersion) => void;
  logger?: Logger;
}) {
  const { db, settings, now } = deps;
  let running: Promise<RefitResult> | undefined;

  async function run(): Promise<RefitResult> {
    const cutoff = await lastRefitCutoff(db);
    const fresh = await labelsSince(db, cutoff);
    if (fresh < settings.everyLabels) return { outcome: "not_due", labels: fresh };
    // The newest labelled sends, oldest first: the holdout is the most recent of them.
    const rows = await db
      .select({ x: examples.features, y: examples.label, at: examples.labelledAt })
      .from(examples)
      .where(isNotNull(examples.label))
      // Ties (one batch shares its labelling time) in a repeatable order.
      .orderBy(
        desc(examples.labelledAt),
        desc(examples.scoredAt),
        desc(examples.leadId),
        desc(examples.scoredEventId),
      )
      .limit(settings.maxExamples);
    rows.reverse();
    const labelledUpTo = rows.reduce((t, r) => (r.at && r.at > t ? r.at : t), new Date(0));
    const labelled = rows.map((r) => ({ x: r.x, y: (r.y === 1 ? 1 : 0) as 0 | 1 }));
    const { train, holdout } = holdoutSplit(labelled, settings.holdoutFraction);
    if (train.length === 0) return { outcome: "not_due", labels: fresh };
    const active = await activeModel(db);
    const fit = fitLogistic(train, {
      prior: INITIAL_WEIGHTS,
      l2: settings.l2,
      start: active.weights,
    });
    // Both judged on the same newest labels; the paired log-loss gain must beat its noise.
    const judged = {
      candidate: evaluate(fit.weights, holdout),
      active: evaluate(active.weights, holdout),
    };
    const probabilities = (w: Weights) => holdout.map((e) => sigmoid(logitOf(w, e.x)));
    const verdict = shouldPromote(judged.candidate, judged.active, {
      paired: pairedGain(
        probabilities(fit.weights),
        probabilities(active.weights),
        holdout.map((e) => e.y),
      ),
    });
    const candidate = metricsOf(judged.candidate);
    const previous = metricsOf(judged.active);
    // Tiers by the candidate's own probabilities over the leads scored lately, contacted or not.
    const scored = await db
      .select({ x: examples.features })
      .from(examples)
      .orderBy(desc(examples.scoredAt))
      .limit(settings.maxExamples);
    const cut = tierThresholds(
      scored.map((r) => sigmoid(logitOf(fit.weights, r.x))),
      TIER_SHARES,
    );
    const tiers = {
      ...cut,
      basis: `percentiles of ${scored.length.toLocaleString("en-US")} recently scored leads: hot = top ${TIER_SHARES.hot * 100}%, warm = the next ${(TIER_SHARES.warm - TIER_SHARES.hot) * 100}%`,
    };
    const record: schema.ModelHoldout = {
      candidate,
      previous,
      trainedOn: train.length,
      verdict: verdict.reason,
    };
    const at = now();
    const saved = await db.transaction(async (tx) => {
      const current = await activeModel(tx, true);
      const again = await lastRefitCutoff(tx);
      // Another replica refitted on these labels meanwhile: its verdict stands.
      if (again && (!cutoff || again > cutoff)) return undefined;
      if (!verdict.promote)
        return saveRejected(tx, current.version, { weights: fit.weights, tiers }, record, {
          labelledUpTo,
          at,
        });
      return saveNewVersion(
        tx,
        current.version,
        { weights: fit.weights, tiers },
        `refit on ${train.length.toLocaleString("en-US")} labelled sends: ${verdict.reason}`,
        { cause: "refit", holdout: record, labelledUpTo, at },
      );
    });
    if (saved === undefined) return { outcome: "raced" };
    if (verdict.promote) deps.onPromoted?.({ version: saved, weights: fit.weights, tiers });
    deps.logger?.info(
      {
        version: saved,
        promoted: verdict.promote,
        trainedOn: train.length,
        holdout: holdout.length,
      },
      verdict.promote ? "model refit promoted" : "model refit not promoted",
    );
    return {
      outcome: verdict.promote ? "promoted" : "rejected",
      version: saved,
      verdict: verdict.reason,
      holdout: record,
    };
  }

  return {
    /** Refits when enough sends were labelled since the last refit; one at a time per instance. */
    refitIfDue(): Promise<RefitResult> {
      running ??= run().finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}
