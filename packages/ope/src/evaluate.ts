/**
 * Evaluates candidate policies on a decision log: each candidate's probability
 * of every logged action in its logged state, then IPS / SNIPS with their
 * intervals; with simulated logs also each candidate's true expected reward on
 * the same states (Σ over arms of π(a|x) × the arm's hidden rate).
 */
import {
  type Candidate,
  CandidateSpecError,
  candidateDistribution,
  pBestEstimator,
} from "./candidates.ts";
import type { LoggedDecision } from "./decision-log.ts";
import { type Estimate, EstimatorInputError, estimate, type Interval } from "./estimators.ts";

export type CandidateResult = Estimate & {
  spec: string;
  /** True expected reward on the logged states (simulated logs only). */
  true?: number;
};

export type Evaluation = {
  records: number;
  logged: { average: number; ci: Interval; true?: number };
  candidates: CandidateResult[];
  warnings: string[];
};

export type EvaluateOptions = {
  /** Monte Carlo draws per P(best) estimate of a candidate (default 2000). */
  draws?: number;
  seed?: number;
  onProgress?: (p: { spec: string; done: number; total: number }) => void;
};

/** Effective sample size under which an interval is not worth much. */
const LOW_ESS = 100;

export function evaluate(
  records: readonly LoggedDecision[],
  candidates: readonly { spec: string; candidate: Candidate }[],
  o: EvaluateOptions = {},
): Evaluation {
  if (records.length === 0) throw new EstimatorInputError("no records to evaluate");
  const variants = new Set(records.flatMap((r) => r.context.arms.map((a) => a.id)));
  for (const { spec, candidate } of candidates)
    if (candidate.kind === "fixed" && !variants.has(candidate.variant))
      throw new CandidateSpecError(
        `--candidate ${spec}: no logged state has a variant "${candidate.variant}" (variants: ${[...variants].join(", ")})`,
      );
  const simulated = records.every((r) => r.rates !== undefined);
  const pBest = pBestEstimator({ draws: o.draws ?? 2_000, seed: o.seed ?? 1 });
  const warnings: string[] = [];
  const floorless = records.filter((r) => r.context.policy.floor === 0 && r.policy !== "burn_in");
  if (floorless.length > 0)
    warnings.push(
      `${floorless.length} decisions were logged with floor 0: the logger gave some arms (almost) no chance there, so a candidate that picks them is poorly supported`,
    );

  const results = candidates.map(({ spec, candidate }): CandidateResult => {
    let truth = 0;
    let fallbacks = 0;
    const outcomes = records.map((r, i) => {
      if (o.onProgress && i % 1_000 === 0) o.onProgress({ spec, done: i, total: records.length });
      const dist = candidateDistribution(candidate, r.context, pBest);
      if (candidate.kind === "fixed" && !dist.has(candidate.variant)) fallbacks++;
      if (simulated) for (const [a, p] of dist) truth += p * (r.rates![a] ?? 0);
      return {
        action: r.variantId,
        propensity: r.propensity,
        reward: r.reward,
        target: dist.get(r.variantId) ?? 0,
      };
    });
    const e = estimate(outcomes);
    if (fallbacks > 0)
      warnings.push(
        `${spec}: the variant was not active in ${fallbacks} of ${e.n} logged states (suppressed, paused or absent); there the candidate follows the logged Thompson policy`,
      );
    if (e.ess < LOW_ESS)
      warnings.push(
        `${spec}: effective sample size ${e.ess.toFixed(1)} of ${e.n} — few logged decisions resemble this candidate, its estimate has high variance`,
      );
    if (e.snips === null)
      warnings.push(`${spec}: gives every logged action probability 0, no estimate possible`);
    return { spec, ...e, ...(simulated ? { true: truth / records.length } : {}) };
  });
  const logged =
    results[0]?.logged ??
    estimate(
      records.map((r) => ({
        action: r.variantId,
        propensity: r.propensity,
        reward: r.reward,
        target: r.propensity,
      })),
    ).logged;
  const loggedTrue = simulated
    ? records.reduce((s, r) => s + (r.rates![r.variantId] ?? 0), 0) / records.length
    : undefined;
  return {
    records: records.length,
    logged: { ...logged, ...(loggedTrue === undefined ? {} : { true: loggedTrue }) },
    candidates: results,
    warnings,
  };
}
