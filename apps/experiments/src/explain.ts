/**
 * Plain-language explanations: why a variant was chosen, why a lead went to the
 * nurture track, why an arm was paused or suppressed, and the posterior figures
 * they quote. Pure functions, no I/O.
 */
import {
  type ArmState,
  type Decision,
  type PolicyOptions,
  posterior,
  type SuppressionOptions,
} from "@pw/bandit";
import type { Guardrails } from "./settings.ts";

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

/** The first guardrail an arm breaks, in words; undefined when it breaks none. */
export function guardrailBreach(
  arm: { exposures: number; bounces: number; unsubscribes: number; negativeReplies: number },
  guard: Guardrails,
): string | undefined {
  const rate = (n: number) => n / arm.exposures;
  const breach =
    rate(arm.bounces) > guard.bounceRate
      ? `bounce rate ${pct(rate(arm.bounces))} over the ${pct(guard.bounceRate)} limit`
      : rate(arm.unsubscribes) > guard.unsubscribeRate
        ? `unsubscribe rate ${pct(rate(arm.unsubscribes))} over the ${pct(guard.unsubscribeRate)} limit`
        : rate(arm.negativeReplies) > guard.negativeReplyRate
          ? `negative-reply rate ${pct(rate(arm.negativeReplies))} over the ${pct(guard.negativeReplyRate)} limit`
          : undefined;
  return breach && `guardrail: ${breach} after ${arm.exposures} sends`;
}

export const suppressionReason = (s: SuppressionOptions) =>
  `P(best) stayed under ${pct(s.threshold)} for ${s.consecutiveChecks} reviews after ${s.minExposures}+ sends`;

/** A held request's explanation once an operator approved it (the field holds 2,000 characters). */
export const approvedSummary = (summary: string, operator: string) =>
  `${summary} Approved by ${operator}.`.slice(0, 2000);
