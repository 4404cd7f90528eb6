/**
 * Topic `experiment.updates.v1` — posterior snapshots, suppression / revival,
 * playbook changes, and decisions held for an operator's approval. Snapshots and status
 * changes are keyed by segment (`segment:<name>`): they are about a segment's experiment,
 * and one key keeps its history in order. Playbook changes are keyed by variant; a held
 * decision and its resolution by the lead, so the two stay in order on one partition.
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";
import { PersonalisationFacts } from "./lead-scored.ts";
import { ArmSummary, Channel, OutreachRequestedV1 } from "./outreach.ts";

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

/**
 * Approval mode held a decision: the request exactly as it will go to dispatch once an
 * operator approves it (subject and body rendered for the lead), until
 * `experiment.decision_resolved.v1` names its request id.
 */
export const DecisionHeldV1 = eventSchema(
  "experiment.decision_held.v1",
  z.object({
    request: OutreachRequestedV1.shape.data,
    /** Who the message is for, as the engine knew the lead when it decided. */
    lead: PersonalisationFacts.pick({ firstName: true, company: true, role: true }),
    heldAt: IsoTime,
  }),
);
export type DecisionHeldV1 = z.infer<typeof DecisionHeldV1>;

/**
 * A held decision stopped waiting: approved (its request went to dispatch), rejected by an
 * operator, or withdrawn by the engine (the lead opted out, was suppressed or put on the
 * do-not-contact list while it waited).
 */
export const DecisionResolvedV1 = eventSchema(
  "experiment.decision_resolved.v1",
  z.object({
    requestId: z.string().min(1).max(200),
    segment: z.string().min(1).max(100),
    variantId: z.string().min(1).max(100),
    resolution: z.enum(["approved", "rejected", "withdrawn"]),
    /** The operator, or `engine`. */
    by: z.string().min(1).max(200),
    reason: z.string().min(1).max(1000),
    at: IsoTime,
  }),
);
export type DecisionResolvedV1 = z.infer<typeof DecisionResolvedV1>;

export const ExperimentUpdate = z.discriminatedUnion("type", [
  PosteriorSnapshotV1,
  VariantStatusChangedV1,
  PlaybookChangedV1,
  DecisionHeldV1,
  DecisionResolvedV1,
]);
export type ExperimentUpdate = z.infer<typeof ExperimentUpdate>;
