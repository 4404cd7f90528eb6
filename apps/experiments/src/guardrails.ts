/**
 * Guardrails as sequential tests (ADR 0014): the per-outcome check (learning.ts) and the
 * review's backstop (review.ts) pause a variant when the one-sided Wilson lower bound of
 * its bounce, opt-out or negative-reply rate is over the limit. The test itself lives in
 * @pw/bandit, so the simulator pauses variants with the very same code; the engine's
 * limits come from its config (`settings.guardrails`), whose defaults are the bandit's
 * `DEFAULT_GUARDRAILS` (guardrails.test.ts holds them equal).
 */
import type { GuardrailEvidence } from "@pw/bandit";
import type * as schema from "@pw/db/experiments";

export {
  type GuardrailBreach,
  type GuardrailEvidence,
  type GuardrailMetric,
  guardrailBreach,
  guardrailReason,
  normalQuantile,
  wilsonLowerBound,
} from "@pw/bandit";

/** An arm row's guardrail evidence: its whole history and its recent sends. */
export function armEvidence(row: typeof schema.arms.$inferSelect): GuardrailEvidence {
  return {
    exposures: row.exposures,
    bounces: row.bounces,
    unsubscribes: row.unsubscribes,
    negativeReplies: row.negativeReplies,
    recent: {
      exposures: row.recentSends,
      bounces: row.recentBounces,
      unsubscribes: row.recentUnsubscribes,
      negativeReplies: row.recentNegativeReplies,
    },
  };
}
