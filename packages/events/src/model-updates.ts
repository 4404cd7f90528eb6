/**
 * Topic `model.updates.v1` — scoring's built-in model, one event each time a version
 * becomes the active one: the initial priors, a refit that beat the active version on
 * recent labels, or an operator's rollback (the old weights again, as a new version);
 * and one for each refit that did not beat it (kept, with its figures, never active).
 * (`online_update` is the per-outcome step of earlier releases, kept for their events.)
 * Keyed by `model:builtin`, so versions arrive in the order they were made. Published
 * through scoring's outbox in the transaction that saves the version.
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";

/** Subject and key of the built-in model's events. */
export const MODEL_SUBJECT = "model:builtin";

const version = z.number().int().min(1).max(2_147_483_647);

/** How a model did on a set of labelled leads it was not trained on. */
export const ModelMetrics = z.object({
  /** Labelled leads, and how many of them were positives. */
  n: z.number().int().min(0),
  positives: z.number().int().min(0),
  baseRate: z.number().min(0).max(1),
  meanPredicted: z.number().min(0).max(1),
  /** Area under the ROC curve (how well it ranks); null with one class only. */
  auc: z.number().min(0).max(1).nullable(),
  logLoss: z.number().min(0),
  /** Expected calibration error over equal-count bins. */
  ece: z.number().min(0).max(1),
});
export type ModelMetrics = z.infer<typeof ModelMetrics>;

const Holdout = z.object({
  candidate: ModelMetrics,
  previous: ModelMetrics,
  /** Labelled leads the candidate was trained on. */
  trainedOn: z.number().int().min(0),
  /** Scoring's words: why it was (or was not) promoted, with the figures. */
  verdict: z.string().min(1).max(1000),
});

export const TierCutoffs = z.object({
  hot: z.number().min(0).max(1),
  warm: z.number().min(0).max(1),
  /** How they were set: fixed (the priors) or percentiles of recently scored leads. */
  basis: z.string().min(1).max(300),
});
export type TierCutoffs = z.infer<typeof TierCutoffs>;

export const ModelVersionActivatedV1 = eventSchema(
  "model.version_activated.v1",
  z.object({
    version,
    /** As `lead.scored.v1` names it (`model.version`): `builtin-v<version>`. */
    name: z.string().min(1).max(100),
    cause: z.enum(["initial", "online_update", "refit", "rollback"]),
    /** Scoring's words: "initial priors", "online update from converted (…)", "rollback to v3". */
    reason: z.string().min(1).max(1000),
    /** The version active before this one (absent for the first). */
    previousVersion: version.optional(),
    /** A rollback: the version whose weights came back. */
    restoredFrom: version.optional(),
    /** Logistic-regression weights by feature name (`bias` included). */
    weights: z.record(z.string().max(100), z.number()),
    /**
     * An online update: the labelled outcome it learned from and the probability the
     * previous version gave that lead before learning (test-then-train) — what a Brier
     * score or a calibration check over recent updates is computed from.
     */
    evaluation: z
      .object({
        label: z.union([z.literal(0), z.literal(1)]),
        predicted: z.number().min(0).max(1),
      })
      .optional(),
    /** A refit: the candidate's and the previous version's figures on the same holdout. */
    holdout: Holdout.optional(),
    /** Probability cut-offs of the tiers this version scores with (hot ≥ hot, warm ≥ warm). */
    tiers: TierCutoffs.optional(),
    at: IsoTime,
  }),
);
export type ModelVersionActivatedV1 = z.infer<typeof ModelVersionActivatedV1>;

/**
 * A refit that did not beat the active version on recent labels: stored as a version
 * (an operator may still roll back to it) but never activated.
 */
export const ModelCandidateRejectedV1 = eventSchema(
  "model.candidate_rejected.v1",
  z.object({
    version,
    name: z.string().min(1).max(100),
    /** The version that stayed active. */
    activeVersion: version,
    weights: z.record(z.string().max(100), z.number()),
    holdout: Holdout,
    at: IsoTime,
  }),
);
export type ModelCandidateRejectedV1 = z.infer<typeof ModelCandidateRejectedV1>;

export const ModelUpdate = z.discriminatedUnion("type", [
  ModelVersionActivatedV1,
  ModelCandidateRejectedV1,
]);
export type ModelUpdate = z.infer<typeof ModelUpdate>;
