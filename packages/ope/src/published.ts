/**
 * OPE on decisions as the experiment engine *publishes* them (`outreach.requested.v1`:
 * the chosen variant, its propensity, how it was picked, and every active arm's P(best)
 * and exposures in `explanation`) — for readers that may not read the engine's tables,
 * like the gateway. The state is rebuilt from what the event carries:
 *
 * - P(best) per arm is the engine's own estimate at decision time (no Monte Carlo here);
 * - burn-in is what the logger did (`policy: burn_in`), as the event does not carry the
 *   arms' pooled-prior weights that decide it;
 * - floor and sharpen are the engine's (@pw/bandit DEFAULT_POLICY: the engine has no
 *   setting for them) unless the candidate changes them.
 *
 * So candidates that change the prior or the burn-in cannot be evaluated here (they need
 * successes, failures and pooled priors: `pnpm ope` on the engine's database); a
 * `threshold` candidate renormalises the logged P(best) over the arms it keeps instead of
 * re-estimating P(best) among them (close when the dropped arms had little of it). How
 * well the rebuilt state replays the logger is measured and returned (`replayError`).
 */
import { DEFAULT_POLICY } from "@pw/bandit";
import { type Candidate, CandidateSpecError, candidateDistribution } from "./candidates.ts";
import type { DecisionContext } from "./decision-log.ts";
import { type Estimate, estimate } from "./estimators.ts";

export type PublishedDecision = {
  requestId: string;
  variantId: string;
  /** `explanation.policy`: burn_in | thompson | floor (others are not experiment decisions). */
  policy: string;
  propensity: number;
  /** `explanation.arms`: the active arms at decision time. */
  arms: { variantId: string; pBest: number; exposures: number }[];
  reward: 0 | 1;
};

export type PublishedEvaluation = Estimate & {
  /**
   * Mean |replayed − logged| propensity when the logged policy is replayed on the rebuilt
   * states: near 0 when the engine ran the settings assumed here.
   */
  replayError: number;
  warnings: string[];
};

/** Why a candidate cannot be evaluated on published decisions, or undefined. */
export function unsupportedOnPublished(c: Candidate): { field: string; why: string } | undefined {
  if (c.kind !== "thompson" && c.kind !== "threshold") return undefined;
  if (c.overrides.prior)
    return {
      field: "prior",
      why: "a candidate prior needs each arm's successes and failures, which outreach.requested.v1 does not carry (evaluate it with pnpm ope on the engine's database)",
    };
  if (c.overrides.burnIn !== undefined)
    return {
      field: "burnIn",
      why: "a candidate burn-in needs each arm's pooled-prior weight, which outreach.requested.v1 does not carry (evaluate it with pnpm ope on the engine's database)",
    };
  return undefined;
}

/** The state a published decision was made in, as far as the event tells it. */
function contextOf(d: PublishedDecision): DecisionContext {
  return {
    arms: d.arms.map((a) => ({
      id: a.variantId,
      successes: 0,
      failures: 0,
      exposures: a.exposures,
      status: "active" as const,
    })),
    policy: {
      // Infinite: in burn-in whatever the exposures; 0: never. As the logger was.
      burnIn: d.policy === "burn_in" ? Number.POSITIVE_INFINITY : 0,
      floor: DEFAULT_POLICY.floor,
      prior: DEFAULT_POLICY.prior,
      draws: 1,
      sharpen: DEFAULT_POLICY.sharpen ?? 1,
    },
  };
}

/** Whether a published decision can be evaluated at all (an experiment decision, sane numbers). */
export function evaluable(d: PublishedDecision): boolean {
  return (
    ["burn_in", "thompson", "floor"].includes(d.policy) &&
    d.propensity > 0 &&
    d.propensity <= 1 &&
    d.arms.length > 0 &&
    d.arms.some((a) => a.variantId === d.variantId)
  );
}

export function evaluatePublished(
  decisions: readonly PublishedDecision[],
  candidate: Candidate,
): PublishedEvaluation {
  const unsupported = unsupportedOnPublished(candidate);
  if (unsupported) throw new CandidateSpecError(`${unsupported.field}: ${unsupported.why}`);
  if (
    candidate.kind === "fixed" &&
    !decisions.some((d) => d.arms.some((a) => a.variantId === candidate.variant))
  )
    throw new CandidateSpecError(
      `variant: no logged decision had "${candidate.variant}" among its active arms (variants: ${[
        ...new Set(decisions.flatMap((d) => d.arms.map((a) => a.variantId))),
      ].join(", ")})`,
    );
  const logger: Candidate = { kind: "thompson", overrides: {} };
  let replayError = 0;
  let fallbacks = 0;
  const outcomes = decisions.map((d) => {
    const ctx = contextOf(d);
    const logged = new Map(d.arms.map((a) => [a.variantId, a.pBest]));
    const pBest = (arms: { id: string }[]) =>
      new Map(arms.map((a) => [a.id, logged.get(a.id) ?? 0]));
    const replay = candidateDistribution(logger, ctx, pBest).get(d.variantId) ?? 0;
    replayError += Math.abs(replay - d.propensity);
    const dist = candidateDistribution(candidate, ctx, pBest);
    if (candidate.kind === "fixed" && !dist.has(candidate.variant)) fallbacks++;
    return {
      action: d.variantId,
      propensity: d.propensity,
      reward: d.reward,
      target: dist.get(d.variantId) ?? 0,
    };
  });
  const e = estimate(outcomes);
  const warnings: string[] = [];
  replayError /= decisions.length;
  if (replayError > 0.01)
    warnings.push(
      `replaying the logged policy from the published P(best) misses the logged propensities by ${replayError.toFixed(3)} on average: the engine may have run other floor/sharpen settings, so these weights are approximate`,
    );
  if (fallbacks > 0)
    warnings.push(
      `the variant was not active in ${fallbacks} of ${e.n} logged states; there the candidate follows the logged policy`,
    );
  if (candidate.kind === "threshold")
    warnings.push(
      "threshold: P(best) among the kept arms is the logged P(best) renormalised, not re-estimated",
    );
  return { ...e, replayError, warnings };
}
