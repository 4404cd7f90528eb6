/**
 * Topic `model.updates.v1` — scoring's built-in model, one event each time a version
 * becomes the active one: the initial priors, an online update from a labelled outcome,
 * or an operator's rollback (the old weights again, as a new version). Keyed by
 * `model:builtin`, so versions arrive in the order they were made. Published through
 * scoring's outbox in the transaction that saves the version.
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";

/** Subject and key of the built-in model's events. */
export const MODEL_SUBJECT = "model:builtin";

const version = z.number().int().min(1).max(2_147_483_647);

export const ModelVersionActivatedV1 = eventSchema(
  "model.version_activated.v1",
  z.object({
    version,
    /** As `lead.scored.v1` names it (`model.version`): `builtin-v<version>`. */
    name: z.string().min(1).max(100),
    cause: z.enum(["initial", "online_update", "rollback"]),
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
    at: IsoTime,
  }),
);
export type ModelVersionActivatedV1 = z.infer<typeof ModelVersionActivatedV1>;

export const ModelUpdate = z.discriminatedUnion("type", [ModelVersionActivatedV1]);
export type ModelUpdate = z.infer<typeof ModelUpdate>;
