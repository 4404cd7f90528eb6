/**
 * Scoring's built-in model versions (`model.version_activated.v1`) and the refits it kept
 * but did not promote (`model.candidate_rejected.v1`), projected into
 * `gateway.model_versions`; `GET /api/models` lists them newest first, the active one
 * marked. Scoring refits the model every so many labelled sends and promotes the refit
 * only when it beats the active version on a holdout of recent labelled sends; a rollback
 * makes a new version with older weights. So the active version is the newest one that
 * was not rejected, and a rejected candidate neither supersedes nor is superseded.
 *
 * Metrics: a refit (promoted or not) carries its figures on the holdout — AUC, log-loss,
 * calibration error, mean predicted against observed rate — beside the then-active
 * version's on the same leads (`holdout.previous`). Versions from earlier releases were
 * online updates, one per labelled outcome, each carrying what the model active before it
 * predicted for that lead (test-then-train); for those, over the last `WINDOW` such
 * outcomes up to a version (none before the newest refit): the Brier score, the mean
 * predicted probability and the observed rate. Those labels were meetings and conversions
 * as 1, unsubscribes as 0 — not a random sample of leads; `window` says how many there were.
 */
import type { Db, Tx } from "@pw/db";
import { modelVersionView } from "@pw/db/gateway";
import type { ModelCandidateRejectedV1, ModelVersionActivatedV1 } from "@pw/events";
import { and, asc, desc, eq, gt, isNotNull, lt, lte } from "drizzle-orm";
import { z } from "zod";

export const WINDOW = 50;

const blank = (v: unknown) => (v === "" ? undefined : v);
export const ModelsQuery = z.object({
  limit: z.preprocess(blank, z.coerce.number().int().min(1).max(200).default(50)),
  /** nextCursor of the previous page (a version number). */
  cursor: z.preprocess(blank, z.coerce.number().int().min(1).optional()),
});

export async function projectModelVersion(
  tx: Tx,
  d: ModelVersionActivatedV1["data"],
): Promise<void> {
  await tx
    .insert(modelVersionView)
    .values({
      version: d.version,
      name: d.name,
      cause: d.cause,
      reason: d.reason,
      previousVersion: d.previousVersion ?? null,
      restoredFrom: d.restoredFrom ?? null,
      weights: d.weights,
      evaluation: d.evaluation ?? null,
      holdout: d.holdout ?? null,
      tiers: d.tiers ?? null,
      activatedAt: new Date(d.at),
    })
    .onConflictDoNothing();
}

/** A refit that lost: listed with its verdict, never active. */
export async function projectRejectedCandidate(
  tx: Tx,
  d: ModelCandidateRejectedV1["data"],
): Promise<void> {
  await tx
    .insert(modelVersionView)
    .values({
      version: d.version,
      name: d.name,
      cause: "rejected",
      reason: d.holdout.verdict,
      previousVersion: d.activeVersion,
      weights: d.weights,
      holdout: d.holdout,
      rejected: true,
      activatedAt: new Date(d.at),
    })
    .onConflictDoNothing();
}

type Evaluation = { label: 0 | 1; predicted: number };

/** The figures over `evaluations` (newest first, at most WINDOW), or null without any. */
export function metricsOf(evaluations: Evaluation[]) {
  const n = evaluations.length;
  if (n === 0) return null;
  let brier = 0;
  let predicted = 0;
  let observed = 0;
  for (const e of evaluations) {
    brier += (e.predicted - e.label) ** 2;
    predicted += e.predicted;
    observed += e.label;
  }
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    window: n,
    brier: round(brier / n),
    meanPredicted: round(predicted / n),
    observedRate: round(observed / n),
  };
}

type Holdout = ModelCandidateRejectedV1["data"]["holdout"];

/** A refit's figures on its holdout, named like the online updates' where they mean the same. */
export function holdoutMetrics(h: Holdout) {
  const c = h.candidate;
  return {
    window: c.n,
    positives: c.positives,
    auc: c.auc,
    logLoss: c.logLoss,
    ece: c.ece,
    meanPredicted: c.meanPredicted,
    observedRate: c.baseRate,
  };
}

export async function listModels(db: Db, q: z.infer<typeof ModelsQuery>) {
  const promoted = eq(modelVersionView.rejected, false);
  const [latest] = await db
    .select({ version: modelVersionView.version })
    .from(modelVersionView)
    .where(promoted)
    .orderBy(desc(modelVersionView.version))
    .limit(1);
  const rows = await db
    .select()
    .from(modelVersionView)
    .where(q.cursor !== undefined ? lt(modelVersionView.version, q.cursor) : undefined)
    .orderBy(desc(modelVersionView.version))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const top = page[0];
  // When the newest promoted version of the page stopped being active: the activation of
  // the next promoted one (a rejected candidate replaces nothing).
  const [above] = top
    ? await db
        .select({ activatedAt: modelVersionView.activatedAt })
        .from(modelVersionView)
        .where(and(gt(modelVersionView.version, top.version), promoted))
        .orderBy(asc(modelVersionView.version))
        .limit(1)
    : [];
  // Every evaluation a version of this page needs: at most one per page row, plus WINDOW.
  const evaluated = top
    ? await db
        .select({ version: modelVersionView.version, evaluation: modelVersionView.evaluation })
        .from(modelVersionView)
        .where(
          and(lte(modelVersionView.version, top.version), isNotNull(modelVersionView.evaluation)),
        )
        .orderBy(desc(modelVersionView.version))
        .limit(q.limit + WINDOW)
    : [];
  // The refits at or below the page's versions (at most one per page row, plus the first
  // below): an online-update window reaches back no further than the newest of them, since
  // those outcomes were predicted by a model the refit replaced.
  const refits = top
    ? await db
        .select({ version: modelVersionView.version })
        .from(modelVersionView)
        .where(and(lte(modelVersionView.version, top.version), isNotNull(modelVersionView.holdout)))
        .orderBy(desc(modelVersionView.version))
        .limit(q.limit + 1)
    : [];
  let nextActivation = above?.activatedAt;
  const items = page.map((r) => {
    let supersededAt: Date | undefined;
    if (!r.rejected) {
      supersededAt = nextActivation;
      nextActivation = r.activatedAt;
    }
    const since = refits.find((f) => f.version < r.version)?.version ?? 0;
    const window = evaluated
      .filter((e) => e.version <= r.version && e.version > since)
      .slice(0, WINDOW)
      .map((e) => e.evaluation!);
    return {
      version: r.version,
      name: r.name,
      active: r.version === latest?.version,
      rejected: r.rejected,
      cause: r.cause,
      reason: r.reason,
      previousVersion: r.previousVersion,
      restoredFrom: r.restoredFrom,
      activatedAt: r.activatedAt.toISOString(),
      supersededAt: supersededAt?.toISOString() ?? null,
      weights: r.weights,
      evaluation: r.evaluation,
      holdout: r.holdout,
      tiers: r.tiers,
      metrics: r.holdout ? holdoutMetrics(r.holdout) : metricsOf(window),
    };
  });
  return {
    active: latest?.version ?? null,
    items,
    nextCursor: rows.length > q.limit ? String(page.at(-1)!.version) : null,
  };
}
