/**
 * Pure decisions of the scoring service: the score a lead gets (stackAI's
 * answer, or the built-in model's), whether the new score is news — the lead's
 * next row and the `lead.scored.v1` to emit when the change is material — and
 * what an outreach outcome counts and teaches.
 */
import type * as schema from "@pw/db/scoring";
import { envelope, type LeadScoredV1, type OutreachOutcomeV1 } from "@pw/events";
import { scoreFeatures } from "./model/builtin.ts";
import {
  type Engagement,
  extractFeatures,
  type Icp,
  type Profile,
  type Signal,
  segmentOf,
} from "./model/features.ts";
import type { ModelVersion } from "./model-store.ts";
import { facts, type StoredProfile } from "./profile.ts";
import type { FlowOutput } from "./stackai-scorer.ts";

const SOURCE = "pw://scoring";
/** A score move smaller than this is not news (no event), unless tier/segment/contactability change. */
export const MATERIAL_DELTA = 5;

export type Scored = Pick<
  LeadScoredV1["data"],
  "score" | "tier" | "segment" | "reasons" | "model" | "facts" | "contactable"
>;
/** A row of `scoring.leads`, as read and as written. */
export type LeadRow = typeof schema.leads.$inferSelect;
export type ScoredEvent = LeadScoredV1;
export type ScoreInput = {
  profile: Profile;
  signals: Signal[];
  engagement: Engagement;
  icp?: Icp;
  now: Date;
};

/** What every scorer's answer shares: the facts, and contactability from the opt-out feature. */
function basis(input: ScoreInput) {
  const features = extractFeatures(input);
  const contactable = !features.some((f) => f.name === "opted_out" && f.value > 0);
  return { features, contactable, facts: facts(input.profile, input.signals) };
}

/**
 * What scoring keeps with an emitted score to learn from later (ADR 0017): the features
 * as the built-in model read them, the probability it gave and the version that gave it.
 */
export type Example = {
  features: Record<string, number>;
  predicted: number;
  modelVersion: string;
};

function fromVendor(b: ReturnType<typeof basis>, out: FlowOutput): Scored {
  return {
    score: out.score,
    tier: out.tier,
    segment: out.segment,
    reasons: out.reasons
      .slice(0, 5)
      .map((r, i) =>
        typeof r === "string"
          ? { code: `stackai.${i}`, label: r, contribution: 0 }
          : { code: `stackai.${i}`, label: r.label, contribution: r.contribution ?? 0 },
      ),
    model: { scorer: "stackai", version: "flow" },
    facts: b.facts,
    contactable: b.contactable,
  };
}

/**
 * A lead's score — stackAI's answer when there is one, else the built-in model's (with
 * `fallbackReason` saying why stackAI's was not used) — and the example to keep with it.
 * The example always carries the built-in model's features and probability: that is
 * what a refit learns from, whichever scorer answered.
 */
export function scoreLead(
  input: ScoreInput,
  model: ModelVersion,
  vendor?: { out: FlowOutput } | { fallbackReason: string | undefined },
): { scored: Scored; example: Example } {
  const b = basis(input);
  const s = scoreFeatures(b.features, model.weights, model.tiers);
  const example: Example = {
    features: Object.fromEntries(b.features.map((f) => [f.name, f.value])),
    predicted: s.probability,
    modelVersion: `builtin-v${model.version}`,
  };
  if (vendor && "out" in vendor) return { scored: fromVendor(b, vendor.out), example };
  const fallbackReason = vendor?.fallbackReason;
  return {
    scored: {
      score: s.score,
      tier: s.tier,
      segment: segmentOf(input.profile),
      reasons: s.reasons,
      model: {
        scorer: "builtin",
        version: `builtin-v${model.version}`,
        ...(fallbackReason !== undefined ? { fallbackReason } : {}),
      },
      facts: b.facts,
      contactable: b.contactable,
    },
    example,
  };
}

export function vendorScore(input: ScoreInput, out: FlowOutput): Scored {
  return fromVendor(basis(input), out);
}

/** The built-in model's score; `fallbackReason` says why stackAI's was not used. */
export function builtinScore(
  input: ScoreInput,
  model: ModelVersion,
  fallbackReason?: string,
): Scored {
  return scoreLead(input, model, { fallbackReason }).scored;
}

/** The lead's next row, and the event to emit when the change is material. */
export function decide(input: {
  leadId: string;
  existing: LeadRow | undefined;
  profile: StoredProfile;
  engagement: Engagement;
  scored: Scored;
  traceparent?: string;
  now: Date;
}): { row: LeadRow; event: ScoredEvent | undefined } {
  const { leadId, existing, scored, traceparent, now } = input;
  const previous =
    existing?.score != null && existing.tier && existing.segment
      ? {
          score: existing.score,
          tier: existing.tier,
          segment: existing.segment,
        }
      : undefined;
  const material =
    !previous ||
    Math.abs(previous.score - scored.score) >= MATERIAL_DELTA ||
    previous.tier !== scored.tier ||
    previous.segment !== scored.segment ||
    (existing?.contactable ?? true) !== scored.contactable;
  const row: LeadRow = {
    leadId,
    profile: input.profile,
    engagement: input.engagement,
    contactable: scored.contactable,
    score: material ? scored.score : (existing?.score ?? null),
    tier: material ? scored.tier : (existing?.tier ?? null),
    segment: material ? scored.segment : (existing?.segment ?? null),
    version: (existing?.version ?? 0) + 1,
    updatedAt: now,
  };
  const event = material
    ? envelope({
        type: "lead.scored.v1",
        source: SOURCE,
        subject: leadId,
        ...(traceparent ? { traceparent } : {}),
        data: { ...scored, ...(previous ? { previous } : {}), scoredAt: now.toISOString() },
      })
    : undefined;
  return { row, event };
}

/** Engagement after `outcome`: one more of its kind. */
export function countOutcome(
  engagement: Engagement,
  outcome: OutreachOutcomeV1["data"],
): Engagement {
  // A soft bounce is transient: it neither opts the lead out nor teaches the model.
  if (outcome.outcome === "bounced" && outcome.bounceType === "soft") return { ...engagement };
  return { ...engagement, [outcome.outcome]: (engagement[outcome.outcome] ?? 0) + 1 };
}
