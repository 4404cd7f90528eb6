/**
 * Topics `outreach.requested.v1` (experiments → dispatch), `outreach.dispatched.v1`
 * (dispatch → everyone) and `outreach.outcomes.v1` (ingest → experiments, scoring).
 */
import { z } from "zod";
import { eventSchema, HttpUrl, IsoTime } from "./envelope.ts";

export const Channel = z.enum(["email", "linkedin", "slack", "in_app"]);
export type Channel = z.infer<typeof Channel>;

export const ArmSummary = z.object({
  variantId: z.string(),
  /** Posterior mean of the reward rate. */
  mean: z.number().min(0).max(1),
  /** 95% credible interval. */
  low: z.number().min(0).max(1),
  high: z.number().min(0).max(1),
  /** Probability this arm is the best one, estimated by sampling. */
  pBest: z.number().min(0).max(1),
  exposures: z.number().int().min(0),
});
export type ArmSummary = z.infer<typeof ArmSummary>;

export const DecisionExplanation = z.object({
  /** One or two plain sentences an operator can read. */
  summary: z.string().min(1).max(2000),
  policy: z.enum(["burn_in", "thompson", "floor", "operator", "fixed"]),
  /** Probability with which the chosen variant was picked (for off-policy evaluation). */
  propensity: z.number().min(0).max(1),
  arms: z.array(ArmSummary),
});
export type DecisionExplanation = z.infer<typeof DecisionExplanation>;

export const FollowUpStep = z.object({
  /** 1, 2… — the first touch is step 0. */
  step: z.number().int().min(1).max(20),
  /** Days after the previous step; dispatch stops the cadence on a reply or opt-out. */
  delayDays: z.number().int().min(0).max(90),
  subject: z.string().max(500),
  body: z.string().max(20_000),
});
export type FollowUpStep = z.infer<typeof FollowUpStep>;

export const OutreachRequestedV1 = eventSchema(
  "outreach.requested.v1",
  z.object({
    /** Idempotency key end to end: dispatch sends each request id at most once. */
    requestId: z.string().min(1).max(200),
    segment: z.string().min(1).max(100),
    variantId: z.string().min(1).max(100),
    channel: Channel,
    to: z.string().min(1).max(320),
    subject: z.string().max(500),
    body: z.string().max(20_000),
    /** 0–100; higher goes first when send capacity is short. */
    priority: z.number().min(0).max(100),
    cadenceStep: z.number().int().min(0).max(20),
    explanation: DecisionExplanation,
    requestedAt: IsoTime,
    /**
     * experiment: a bandit decision (absent means experiment, as before this field);
     * nurture: the low-touch track for leads that did not get send capacity in time.
     */
    track: z.enum(["experiment", "nurture"]).optional(),
    /** The rest of the cadence, rendered for this lead (dispatch schedules them). */
    followUps: z.array(FollowUpStep).max(10).optional(),
    /** The lead's IANA time zone, for quiet hours (absent: dispatch's default zone). */
    timeZone: z.string().min(1).max(64).optional(),
    /** Who wrote the copy: the stackAI rewrite or the template (with why it fell back). */
    copy: z
      .object({
        writer: z.enum(["stackai", "template"]),
        fallbackReason: z.string().max(500).optional(),
      })
      .optional(),
  }),
);
export type OutreachRequestedV1 = z.infer<typeof OutreachRequestedV1>;

export const OutreachRequested = z.discriminatedUnion("type", [OutreachRequestedV1]);
export type OutreachRequested = z.infer<typeof OutreachRequested>;

export const DispatchStatus = z.enum(["sent", "deferred", "skipped", "failed"]);
export type DispatchStatus = z.infer<typeof DispatchStatus>;

export const OutreachDispatchedV1 = eventSchema(
  "outreach.dispatched.v1",
  z.object({
    requestId: z.string().min(1).max(200),
    dispatchId: z.string().min(1).max(200).optional(),
    variantId: z.string().min(1).max(100),
    channel: Channel,
    status: DispatchStatus,
    /** Why it was deferred / skipped / failed: quiet hours, cap, unsubscribed… */
    reason: z.string().max(500).optional(),
    provider: z.object({
      name: z.enum(["truefoundry", "local"]),
      messageId: z.string().max(300).optional(),
    }),
    cadenceStep: z.number().int().min(0).max(20),
    /** The request's track (absent means experiment, as before this field). */
    track: z.enum(["experiment", "nurture"]).optional(),
    /** sent: when the next cadence step is due; deferred: when it will be tried again. */
    nextStepAt: IsoTime.optional(),
    attempt: z.number().int().min(1),
    at: IsoTime,
  }),
);
export type OutreachDispatchedV1 = z.infer<typeof OutreachDispatchedV1>;

export const OutreachDispatched = z.discriminatedUnion("type", [OutreachDispatchedV1]);
export type OutreachDispatched = z.infer<typeof OutreachDispatched>;

export const OutcomeKind = z.enum([
  "delivered",
  "opened",
  "clicked",
  "replied",
  "meeting_booked",
  "converted",
  "bounced",
  "unsubscribed",
]);
export type OutcomeKind = z.infer<typeof OutcomeKind>;

export const OutreachOutcomeV1 = eventSchema(
  "outreach.outcome.v1",
  z.object({
    outcome: OutcomeKind,
    occurredAt: IsoTime,
    dispatchId: z.string().min(1).max(200).optional(),
    requestId: z.string().min(1).max(200).optional(),
    variantId: z.string().min(1).max(100).optional(),
    channel: z.string().max(50).optional(),
    /** Reply text when `outcome` is `replied` (classified downstream; never logged). */
    replyText: z.string().max(20_000).optional(),
    url: HttpUrl.optional(),
    bounceType: z.enum(["hard", "soft"]).optional(),
  }),
);
export type OutreachOutcomeV1 = z.infer<typeof OutreachOutcomeV1>;

export const UnknownOutcomeV1 = eventSchema(
  "outreach.unknown_outcome.v1",
  z.object({
    originalType: z.string().min(1).max(200),
    occurredAt: IsoTime,
    raw: z.unknown(),
  }),
);
export type UnknownOutcomeV1 = z.infer<typeof UnknownOutcomeV1>;

export const OutreachOutcome = z.discriminatedUnion("type", [OutreachOutcomeV1, UnknownOutcomeV1]);
export type OutreachOutcome = z.infer<typeof OutreachOutcome>;
