/**
 * Scoring's built-in model versions (`model.version_activated.v1`), projected into
 * `gateway.model_versions`; `GET /api/models` lists them newest first, the active one
 * marked. Scoring makes a version for each labelled outcome it learns from, and a
 * rollback makes a new version with older weights, so the newest version is the active one.
 *
 * Metrics: each online update carries what the model active before it predicted for the
 * lead it then learned from (test-then-train). Over the last `WINDOW` such outcomes up to
 * a version: the Brier score, the mean predicted probability and the observed rate (their
 * gap is calibration-in-the-large). The labels are what scoring learns from — meetings
 * and conversions as 1, unsubscribes as 0 — not a random sample of leads, so the figures
 * describe the model on those outcomes only; `window` says how many there were.
 */
import type { Db, Tx } from "@pw/db";
import { modelVersionView } from "@pw/db/gateway";
import type { ModelVersionActivatedV1 } from "@pw/events";
import { and, asc, desc, gt, isNotNull, lt, lte } from "drizzle-orm";
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

export async function listModels(db: Db, q: z.infer<typeof ModelsQuery>) {
  const [latest] = await db
    .select({ version: modelVersionView.version })
    .from(modelVersionView)
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
  // When the first version of the page stopped being active: the next one's activation.
  const [above] = top
    ? await db
        .select({ activatedAt: modelVersionView.activatedAt })
        .from(modelVersionView)
        .where(gt(modelVersionView.version, top.version))
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
  return {
    active: latest?.version ?? null,
    items: page.map((r, i) => {
      const supersededAt = i === 0 ? above?.activatedAt : page[i - 1]!.activatedAt;
      const window = evaluated
        .filter((e) => e.version <= r.version)
        .slice(0, WINDOW)
        .map((e) => e.evaluation!);
      return {
        version: r.version,
        name: r.name,
        active: r.version === latest?.version,
        cause: r.cause,
        reason: r.reason,
        previousVersion: r.previousVersion,
        restoredFrom: r.restoredFrom,
        activatedAt: r.activatedAt.toISOString(),
        supersededAt: supersededAt?.toISOString() ?? null,
        weights: r.weights,
        evaluation: r.evaluation,
        metrics: metricsOf(window),
      };
    }),
    nextCursor: rows.length > q.limit ? String(page.at(-1)!.version) : null,
  };
}
