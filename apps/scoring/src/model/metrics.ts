/**
 * How good a set of built-in model weights is on labelled leads: ranking
 * (AUC), probability quality (log-loss) and calibration (ECE). Pure and
 * deterministic, so a candidate refit and the active model can be compared on
 * the same holdout before one replaces the other (see fit.ts).
 */
import { sigmoid, type Weights } from "./builtin.ts";

/** A labelled lead: the features as the scorer extracted them (a missing name means 0). */
export type Example = { x: Record<string, number>; y: 0 | 1 };

export type Metrics = {
  n: number;
  positives: number;
  baseRate: number;
  meanPredicted: number;
  /** NaN when the examples hold one class only: no pair to rank. */
  auc: number;
  logLoss: number;
  ece: number;
};

const EPS = 1e-12;

function checkLengths(p: readonly number[], y: readonly (0 | 1)[]): void {
  if (p.length !== y.length) {
    throw new Error(`${p.length} predictions but ${y.length} labels`);
  }
}

/** Indices of `p` sorted ascending; stable, so ties keep input order. */
function ascending(p: readonly number[]): number[] {
  return p.map((_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
}

/**
 * Area under the ROC curve: the probability that a random positive is ranked
 * above a random negative, ties counting half (Mann–Whitney U from mid-ranks).
 * NaN when either class is absent.
 */
export function auc(p: readonly number[], y: readonly (0 | 1)[]): number {
  checkLengths(p, y);
  const order = ascending(p);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && p[order[j + 1]!] === p[order[i]!]) j++;
    const midRank = (i + j) / 2 + 1; // 1-based ranks i+1..j+1 share their mean
    for (let k = i; k <= j; k++) {
      if (y[order[k]!] === 1) {
        positives++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const negatives = p.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Mean negative log-likelihood, p clipped to [1e-12, 1 − 1e-12]. NaN when empty. */
export function logLoss(p: readonly number[], y: readonly (0 | 1)[]): number {
  checkLengths(p, y);
  if (p.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
    sum -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return sum / p.length;
}

/**
 * Expected calibration error over equal-count bins: Σ_b (n_b/N)·|mean p_b − mean y_b|.
 * Equal-count rather than equal-width because at a ~5% base rate nearly every
 * prediction falls in the lowest tenth, and one bin's average hides the
 * miscalibration inside it. Examples are sorted by p (ties in input order) and
 * cut into `bins` runs whose sizes differ by at most one; with fewer examples
 * than bins, each example is its own bin. NaN when empty.
 */
export function ece(p: readonly number[], y: readonly (0 | 1)[], bins = 10): number {
  checkLengths(p, y);
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer`);
  const n = p.length;
  if (n === 0) return Number.NaN;
  const order = ascending(p);
  const b = Math.min(bins, n);
  let total = 0;
  for (let k = 0; k < b; k++) {
    const from = Math.floor((k * n) / b);
    const to = Math.floor(((k + 1) * n) / b);
    let sumP = 0;
    let sumY = 0;
    for (let i = from; i < to; i++) {
      sumP += p[order[i]!]!;
      sumY += y[order[i]!]!;
    }
    // (n_b/N)·|mean p − mean y| = |Σp − Σy| / N
    total += Math.abs(sumP - sumY);
  }
  return total / n;
}

/** bias + Σ weights[name]·x[name]; a name missing from the weights counts 0. */
export function logitOf(weights: Weights, x: Record<string, number>): number {
  let z = weights.bias ?? 0;
  for (const name in x) {
    if (name === "bias") continue;
    z += (weights[name] ?? 0) * x[name]!;
  }
  return z;
}

const round = (v: number, digits = 6): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** The model's metrics on `examples`, rounded to 6 decimals (NaN stays NaN). */
export function evaluate(weights: Weights, examples: readonly Example[]): Metrics {
  const p = examples.map((e) => sigmoid(logitOf(weights, e.x)));
  const y = examples.map((e) => e.y);
  const n = examples.length;
  const positives = y.reduce<number>((s, v) => s + v, 0);
  const meanPredicted = n === 0 ? Number.NaN : p.reduce((s, v) => s + v, 0) / n;
  return {
    n,
    positives,
    baseRate: n === 0 ? Number.NaN : round(positives / n),
    meanPredicted: round(meanPredicted),
    auc: round(auc(p, y)),
    logLoss: round(logLoss(p, y)),
    ece: round(ece(p, y)),
  };
}

/**
 * How much lower the candidate's log-loss is than the active's on the same labels: the
 * mean per-example difference and its standard error (a paired comparison — the labels'
 * own noise, shared by both, cancels).
 */
export function pairedGain(
  candidate: readonly number[],
  active: readonly number[],
  y: readonly (0 | 1)[],
): { gain: number; se: number } {
  const n = y.length;
  if (n === 0 || candidate.length !== n || active.length !== n)
    throw new Error(`pairedGain: ${candidate.length}, ${active.length} and ${n} values`);
  const loss = (p: number, label: 0 | 1) => {
    const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
    return -(label === 1 ? Math.log(q) : Math.log(1 - q));
  };
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = loss(active[i]!, y[i]!) - loss(candidate[i]!, y[i]!);
    sum += d;
    sq += d * d;
  }
  const gain = sum / n;
  const variance = n > 1 ? Math.max(0, (sq - n * gain * gain) / (n - 1)) : 0;
  return { gain, se: Math.sqrt(variance / n) };
}
