/**
 * Plain-language explanations: why a variant was chosen, why a lead went to the
 * nurture track, why an arm was suppressed (a guardrail's pause: guardrails.ts), why a
 * segment has nothing it may send or can send again, and the posterior figures they
 * quote. Pure functions, no I/O.
 */
import {
  type ArmState,
  type Decision,
  type PolicyOptions,
  posterior,
  type SuppressionOptions,
} from "@pw/bandit";

export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Posterior mean and 95% interval (the arm's pooled prior when it carries one). */
export function posteriorSummary(arm: ArmState, policy: PolicyOptions) {
  const { alpha, beta: b } = posterior(arm, policy);
  const mean = alpha / (alpha + b);
  const sd = Math.sqrt((alpha * b) / ((alpha + b) ** 2 * (alpha + b + 1)));
  return { mean, low: Math.max(0, mean - 1.96 * sd), high: Math.min(1, mean + 1.96 * sd) };
}

export type ArmSummary = ReturnType<typeof posteriorSummary> & {
  variantId: string;
  pBest: number;
  exposures: number;
};

/** Why the policy picked the chosen arm, in the operator's words. */
export function decisionSummary(
  segment: string,
  decision: Decision,
  chosen: ArmSummary,
  policy: PolicyOptions,
): string {
  const why =
    decision.policy === "burn_in"
      ? `still exploring: every variant gets ${policy.burnIn} sends before the engine favours one`
      : decision.policy === "floor"
        ? "kept in rotation by the traffic floor so it can still prove itself"
        : `most likely to convert: P(best) ${pct(chosen.pBest)}, posterior ${pct(chosen.mean)} [${pct(chosen.low)}–${pct(chosen.high)}] after ${chosen.exposures} sends`;
  return `Chose "${decision.armId}" for ${segment}: ${why}.`;
}

/** The queue note of a lead moved to the nurture track. */
export const nurtureNote = (afterHours: number) =>
  `no send capacity for ${afterHours} h: moved to the nurture track`;

/** The explanation on a nurture request. */
export const nurtureSummary = (waitedHours: number, score: number) =>
  `Waited ${waitedHours} h without send capacity (score ${Math.round(score)}); higher-intent leads went first, so this lead joins the nurture track instead of being dropped.`;

export const suppressionReason = (s: SuppressionOptions) =>
  `P(best) stayed under ${pct(s.threshold)} for ${s.consecutiveChecks} reviews after ${s.minExposures}+ sends`;

/** A held request's explanation once an operator approved it (the field holds 2,000 characters). */
export const approvedSummary = (summary: string, operator: string) =>
  `${summary} Approved by ${operator}.`.slice(0, 2000);

/** A variant of a segment as its blocked / unblocked sentence names it. */
export type SegmentVariant = { variantId: string; status: string; reason?: string | undefined };

/** A guardrail's reason starts "Paused 'x' in seg: "; inside a list that is said already. */
const because = (v: SegmentVariant) =>
  v.reason ? ` (${v.reason.replace(/^Paused '[^']*' in [^:]*: /, "")})` : "";

/** Why a segment has nothing it may send (fits the event's 2,000 characters). */
export function segmentBlockedReason(segment: string, variants: SegmentVariant[]): string {
  if (variants.length === 0)
    return `Nothing can be sent in ${segment}: the playbook has no live first-touch variant. Its leads wait in the queue.`;
  const each = variants.map((v) => `${v.variantId} ${v.status}${because(v)}`).join("; ");
  const sentence = `Nothing can be sent in ${segment}: every variant is paused or suppressed — ${each}. Its leads wait in the queue until an operator resumes or revives one.`;
  return sentence.length <= 2000 ? sentence : `${sentence.slice(0, 1999)}…`;
}

/** Why a blocked segment can send again: what changed, and what may send. */
export function segmentUnblockedReason(
  segment: string,
  active: string[],
  cause: string | undefined,
): string {
  const sentence = `${segment} can send again${cause ? ` (${cause})` : ""}: ${active.join(", ")} may be chosen.`;
  return sentence.length <= 2000 ? sentence : `${sentence.slice(0, 1999)}…`;
}
