/**
 * Topic `experiment.updates.v1` — posterior snapshots, suppression / revival,
 * playbook changes, decisions held for an operator's approval, and segments left with no
 * variant they may send (blocked / unblocked). Snapshots, status changes and blocked /
 * unblocked are keyed by segment (`segment:<name>`): they are about a segment's experiment,
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

/**
 * Every live variant of a segment is paused or suppressed: the engine has nothing it may
 * send there, and the segment's leads wait in the queue until a variant may send again
 * (`experiment.segment_unblocked.v1`). Announced once per change, in the transaction that
 * made the last variant stop.
 */
export const SegmentBlockedV1 = eventSchema(
  "experiment.segment_blocked.v1",
  z.object({
    segment: z.string().min(1).max(100),
    /** A plain sentence naming each variant and why it cannot send. */
    reason: z.string().min(1).max(2000),
    /** The segment's live variants as they stand (empty when the playbook has none live). */
    variants: z
      .array(
        z.object({
          variantId: z.string().min(1).max(100),
          status: VariantStatus,
          reason: z.string().max(1000).optional(),
        }),
      )
      .max(200),
    at: IsoTime,
  }),
);
export type SegmentBlockedV1 = z.infer<typeof SegmentBlockedV1>;

/**
 * A blocked segment has a variant it may send again (resumed, revived, or added to the
 * playbook). Announced once per change, in the transaction that made it.
 */
export const SegmentUnblockedV1 = eventSchema(
  "experiment.segment_unblocked.v1",
  z.object({
    segment: z.string().min(1).max(100),
    /** A plain sentence: what changed and which variants may send. */
    reason: z.string().min(1).max(2000),
    /** The variants that may send now. */
    active: z.array(z.string().min(1).max(100)).min(1).max(200),
    at: IsoTime,
  }),
);
export type SegmentUnblockedV1 = z.infer<typeof SegmentUnblockedV1>;

/**
 * An arm's recent rate departed from its long-run rate (change detection, ADR 0015): the
 * segment's evidence starts over from recent outcomes and its suppressed variants are
 * re-tested, so a campaign whose best message changes follows it. Keyed by segment.
 */
export const ChangeDetectedV1 = eventSchema(
  "experiment.change_detected.v1",
  z.object({
    segment: z.string().min(1).max(100),
    /** A plain sentence: which variant's rate moved, from what to what. */
    reason: z.string().min(1).max(2000),
    /** The variants whose recent rate departed, with both rates (per send, 0–1). */
    changed: z
      .array(
        z.object({
          variantId: z.string().min(1).max(100),
          recentRate: z.number().min(0).max(1),
          longRunRate: z.number().min(0).max(1),
          /** Standard errors between the two (signed: negative when the rate fell). */
          score: z.number(),
        }),
      )
      .min(1)
      .max(200),
    /** Suppressed variants that are active again (re-tested). */
    revived: z.array(z.string().min(1).max(100)).max(200),
    at: IsoTime,
  }),
);
export type ChangeDetectedV1 = z.infer<typeof ChangeDetectedV1>;

export const ExperimentUpdate = z.discriminatedUnion("type", [
  PosteriorSnapshotV1,
  VariantStatusChangedV1,
  PlaybookChangedV1,
  DecisionHeldV1,
  DecisionResolvedV1,
  SegmentBlockedV1,
  SegmentUnblockedV1,
  ChangeDetectedV1,
]);
export type ExperimentUpdate = z.infer<typeof ExperimentUpdate>;
