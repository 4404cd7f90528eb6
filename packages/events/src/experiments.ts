/**
 * Topic `experiment.updates.v1` — posterior snapshots, suppression / revival and
 * playbook changes. Keyed by segment (`segment:<name>`) rather than a lead: these
 * are about a segment's experiment, and one key keeps its history in order.
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";
import { ArmSummary, Channel } from "./outreach.ts";

export const VariantStatus = z.enum(["active", "suppressed", "paused", "retired"]);
export type VariantStatus = z.infer<typeof VariantStatus>;

export const PosteriorSnapshotV1 = eventSchema(
  "experiment.posterior_snapshot.v1",
  z.object({
    segment: z.string().min(1).max(100),
    reward: z.enum(["reply", "positive_reply", "meeting_booked", "converted"]),
    arms: z.array(ArmSummary.extend({ successes: z.number().int().min(0), status: VariantStatus })),
    at: IsoTime,
  }),
);
export type PosteriorSnapshotV1 = z.infer<typeof PosteriorSnapshotV1>;

export const VariantStatusChangedV1 = eventSchema(
  "experiment.variant_status_changed.v1",
  z.object({
    segment: z.string().min(1).max(100),
    variantId: z.string().min(1).max(100),
    from: VariantStatus,
    to: VariantStatus,
    reason: z.string().min(1).max(1000),
    by: z.enum(["engine", "operator"]),
    at: IsoTime,
  }),
);
export type VariantStatusChangedV1 = z.infer<typeof VariantStatusChangedV1>;

export const PlaybookChangedV1 = eventSchema(
  "experiment.playbook_changed.v1",
  z.object({
    variantId: z.string().min(1).max(100),
    channel: Channel,
    change: z.enum(["created", "updated", "retired"]),
    by: z.string().min(1).max(200),
    at: IsoTime,
  }),
);
export type PlaybookChangedV1 = z.infer<typeof PlaybookChangedV1>;

export const ExperimentUpdate = z.discriminatedUnion("type", [
  PosteriorSnapshotV1,
  VariantStatusChangedV1,
  PlaybookChangedV1,
]);
export type ExperimentUpdate = z.infer<typeof ExperimentUpdate>;
