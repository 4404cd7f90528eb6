/**
 * Off-policy estimators (pure): what a candidate policy's average reward would
 * have been on logged decisions, from each decision's logged propensity μ(a|x),
 * its reward and the candidate's probability π(a|x) of the same action.
 *
 * - IPS: mean of r·w with w = π/μ; unbiased when μ is the true logging
 *   probability and μ > 0 wherever π > 0. 95% CI by the CLT on the per-record terms.
 * - SNIPS: Σ r·w / Σ w; slightly biased, much lower variance when weights are
 *   large. 95% CI by the delta method for a ratio estimator (closed form,
 *   deterministic; no bootstrap).
 */

export type LoggedOutcome = {
  /** The logged action (only used to name a bad record). */
  action: string;
  /** Probability with which the logging policy chose `action`: (0, 1]. */
  propensity: number;
  /** 0 or 1. */
  reward: number;
  /** Probability with which the candidate would choose `action` in the same state: [0, 1]. */
  target: number;
};

export type Interval = [low: number, high: number];

export type Estimate = {
  n: number;
  ips: number;
  ipsCi: Interval;
  /** Null when the candidate gives every logged action probability 0 (Σw = 0). */
  snips: number | null;
  snipsCi: Interval | null;
  /** Kish effective sample size (Σw)²/Σw²: how many logged decisions the estimate is really worth. */
  ess: number;
  maxWeight: number;
  /** The logging policy's own average reward, for comparison. */
  logged: { average: number; ci: Interval };
};

/** Two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

export class EstimatorInputError extends Error {
  override name = "EstimatorInputError";
}

function check(r: LoggedOutcome, i: number): void {
  const where = `record ${i} (action ${r.action})`;
  if (!(r.propensity > 0 && r.propensity <= 1))
    throw new EstimatorInputError(
      `${where}: propensity ${r.propensity} is not in (0, 1] — the logger cannot have chosen it`,
    );
  if (!(r.target >= 0 && r.target <= 1))
    throw new EstimatorInputError(`${where}: candidate probability ${r.target} is not in [0, 1]`);
  if (r.reward !== 0 && r.reward !== 1)
    throw new EstimatorInputError(`${where}: reward ${r.reward} is not 0 or 1`);
}

const interval = (centre: number, se: number, z: number): Interval => [
  centre - z * se,
  centre + z * se,
];

/** Mean and CLT interval of per-record terms (sample variance, n − 1). */
function meanCi(terms: number[], z: number): { mean: number; ci: Interval } {
  const n = terms.length;
  const mean = terms.reduce((s, t) => s + t, 0) / n;
  if (n < 2) return { mean, ci: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY] };
  const variance = terms.reduce((s, t) => s + (t - mean) ** 2, 0) / (n - 1);
  return { mean, ci: interval(mean, Math.sqrt(variance / n), z) };
}

export function estimate(records: readonly LoggedOutcome[], z = Z95): Estimate {
  if (records.length === 0) throw new EstimatorInputError("no records to evaluate");
  records.forEach(check);
  const weights = records.map((r) => r.target / r.propensity);
  const terms = records.map((r, i) => r.reward * weights[i]!);
  const ips = meanCi(terms, z);
  const sumW = weights.reduce((s, w) => s + w, 0);
  const sumW2 = weights.reduce((s, w) => s + w * w, 0);
  let snips: number | null = null;
  let snipsCi: Interval | null = null;
  if (sumW > 0) {
    const s = terms.reduce((a, t) => a + t, 0) / sumW;
    // Delta method: Var ≈ Σ w²(r − ŝ)² / (Σw)².
    const num = records.reduce((a, r, i) => a + weights[i]! ** 2 * (r.reward - s) ** 2, 0);
    snips = s;
    snipsCi =
      records.length < 2
        ? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]
        : interval(s, Math.sqrt(num) / sumW, z);
  }
  const logged = meanCi(
    records.map((r) => r.reward),
    z,
  );
  return {
    n: records.length,
    ips: ips.mean,
    ipsCi: ips.ci,
    snips,
    snipsCi,
    ess: sumW2 > 0 ? sumW ** 2 / sumW2 : 0,
    maxWeight: weights.reduce((m, w) => Math.max(m, w), 0),
    logged: { average: logged.mean, ci: logged.ci },
  };
}
