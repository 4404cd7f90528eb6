/**
 * Batch refit of the built-in model from labelled leads, and the rules for
 * letting a refit replace the active weights: an L2-penalised logistic
 * regression pulled towards the hand-set priors (solved by Newton–Raphson),
 * a time-ordered holdout, a promotion gate that a refit on bad labels cannot
 * pass, and tier cut-offs from a model's own predictions. Pure and
 * deterministic; reading labels and storing weights happen elsewhere.
 */
import type { Weights } from "./builtin.ts";
import type { Example, Metrics } from "./metrics.ts";

export type FitOptions = {
  /** The weights the penalty pulls towards (the bias is not penalised). */
  prior: Weights;
  /**
   * Penalty strength in units of examples: the objective is
   * Σ log-loss + (l2/2)·Σ_features (w − prior)², so l2 = 2 weighs the prior like
   * a couple of labels and 10k labels dominate it. Must be > 0 for the weights
   * to stay finite under perfect separation.
   */
  l2: number;
  /** Warm start; defaults to `prior`. */
  start?: Weights;
  /** Default 50. Newton needs a handful; a one-class sample needs ~20. */
  maxIterations?: number;
  /**
   * Stop when a further Newton step would lower the objective by less than
   * this per example (half the Newton decrement over n). Default 1e-10.
   */
  tolerance?: number;
};

export type FitResult = { weights: Weights; iterations: number; converged: boolean };

/**
 * Solves A·x = b by Gaussian elimination with partial pivoting (A is n×n,
 * row-major; neither argument is modified). Throws on a singular matrix.
 */
export function solveLinearSystem(a: readonly number[][], b: readonly number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => {
    if (row.length !== n) throw new Error(`row ${i} has ${row.length} columns, expected ${n}`);
    return [...row, b[i]!];
  });
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    }
    if (!(Math.abs(m[pivot]![col]!) > 1e-300)) throw new Error("singular matrix");
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const top = m[col]!;
    for (let r = col + 1; r < n; r++) {
      const row = m[r]!;
      const f = row[col]! / top[col]!;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) row[c]! -= f * top[c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    const row = m[r]!;
    let s = row[n]!;
    for (let c = r + 1; c < n; c++) s -= row[c]! * x[c]!;
    x[r] = s / row[r]!;
  }
  return x;
}

/** log(1 + e^z) without overflow. */
const softplus = (z: number): number =>
  z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));

/** The fitted names: the prior's (minus bias) in their order, then new names as first seen. */
function featureNames(examples: readonly Example[], prior: Weights): string[] {
  const names = new Set(Object.keys(prior).filter((k) => k !== "bias"));
  for (const e of examples) for (const k of Object.keys(e.x)) names.add(k);
  return [...names];
}

/** Row-major design matrix with a leading column of ones; validates every value. */
function designMatrix(examples: readonly Example[], names: readonly string[]): Float64Array {
  const d = names.length + 1;
  const index = new Map(names.map((name, j) => [name, j + 1]));
  const out = new Float64Array(examples.length * d);
  examples.forEach((e, i) => {
    if (e.y !== 0 && e.y !== 1) throw new Error(`example ${i}: label must be 0 or 1, got ${e.y}`);
    out[i * d] = 1;
    for (const [name, v] of Object.entries(e.x)) {
      if (name === "bias") throw new Error(`example ${i}: "bias" is reserved, not a feature name`);
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new Error(`example ${i}: feature "${name}" is not a finite number (${v})`);
      }
      out[i * d + index.get(name)!] = v;
    }
  });
  return out;
}

/**
 * L2-penalised logistic regression by Newton–Raphson (IRLS) with a
 * backtracking line search: minimises Σ log-loss + (l2/2)·Σ_features (w − prior)².
 * The fitted names are the prior's plus any seen in the examples. A feature
 * that is always 0 ends at its prior; perfect separation stays finite because
 * of the penalty; a one-class sample sends the unpenalised bias to a large but
 * finite value (about ±22 at the default tolerance: the point where the
 * remaining gain per example is below it). Throws on a non-finite feature
 * value (naming the feature), a label other than 0/1 or an empty sample.
 */
export function fitLogistic(examples: readonly Example[], opts: FitOptions): FitResult {
  const { prior, l2, maxIterations = 50, tolerance = 1e-10 } = opts;
  const start = opts.start ?? prior;
  if (examples.length === 0) throw new Error("no examples to fit");
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new Error(`l2 must be a finite number ≥ 0`);
  const names = featureNames(examples, prior);
  const n = examples.length;
  const d = names.length + 1;
  const X = designMatrix(examples, names);
  const y = Float64Array.from(examples, (e) => e.y);
  const mu = [0, ...names.map((k) => prior[k] ?? 0)];
  let w = [start.bias ?? prior.bias ?? 0, ...names.map((k) => start[k] ?? prior[k] ?? 0)];
  for (const [j, v] of w.entries()) {
    if (!Number.isFinite(v))
      throw new Error(`start weight "${j === 0 ? "bias" : names[j - 1]}" is not finite`);
  }

  const z = new Float64Array(n);
  const logits = (weights: readonly number[]): void => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j]! * weights[j]!;
      z[i] = s;
    }
  };
  const objective = (weights: readonly number[]): number => {
    logits(weights);
    let f = 0;
    for (let i = 0; i < n; i++) f += softplus(z[i]!) - y[i]! * z[i]!;
    for (let j = 1; j < d; j++) f += (l2 / 2) * (weights[j]! - mu[j]!) ** 2;
    return f;
  };

  let f = objective(w);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    // Gradient and Hessian at w (z holds the logits at w).
    logits(w);
    const g = new Array<number>(d).fill(0);
    const H = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-z[i]!));
      const r = p - y[i]!;
      const s = p * (1 - p);
      const row = i * d;
      for (let j = 0; j < d; j++) {
        const xj = X[row + j]!;
        if (xj === 0) continue;
        g[j]! += r * xj;
        const sx = s * xj;
        for (let k = 0; k <= j; k++) H[j]![k]! += sx * X[row + k]!;
      }
    }
    for (let j = 0; j < d; j++) {
      for (let k = 0; k < j; k++) H[k]![j] = H[j]![k]!;
    }
    for (let j = 1; j < d; j++) {
      g[j]! += l2 * (w[j]! - mu[j]!);
      H[j]![j]! += l2;
    }
    // The bias curvature Σp(1−p) vanishes on a one-class sample; a relative
    // jitter keeps the system solvable without moving a well-posed answer.
    let trace = 0;
    for (let j = 0; j < d; j++) trace += H[j]![j]!;
    for (let j = 0; j < d; j++) H[j]![j]! += 1e-12 * (trace / d) + 1e-300;

    const step = solveLinearSystem(H, g).map((v) => -v);
    const decrease = -step.reduce((s, v, j) => s + v * g[j]!, 0); // gᵀH⁻¹g ≥ 0
    if (!Number.isFinite(decrease)) break;
    if (decrease / 2 / n < tolerance) {
      converged = true;
      break;
    }
    // Backtracking (Armijo): Newton from a far start can overshoot.
    let t = 1;
    let next = w;
    let fNext = f;
    let accepted = false;
    for (let halvings = 0; halvings < 40; halvings++) {
      next = w.map((v, j) => v + t * step[j]!);
      fNext = objective(next);
      if (fNext <= f - 1e-4 * t * decrease) {
        accepted = true;
        break;
      }
      t /= 2;
    }
    iterations++;
    if (!accepted) {
      // No descent left at machine precision: w is as good as it gets.
      converged = true;
      break;
    }
    w = next;
    f = fNext;
  }

  const weights: Weights = { bias: w[0]! };
  names.forEach((name, j) => {
    weights[name] = w[j + 1]!;
  });
  return { weights, iterations, converged };
}

/**
 * Splits time-ordered examples (oldest first): the most recent `fraction`
 * (rounded to the nearest whole example) is the holdout, so a candidate is
 * judged on the labels closest to the leads it will score.
 */
export function holdoutSplit<T>(
  examples: readonly T[],
  fraction = 0.2,
): { train: T[]; holdout: T[] } {
  if (!(fraction >= 0 && fraction <= 1)) throw new Error(`fraction must be in [0, 1]`);
  const cut = examples.length - Math.round(examples.length * fraction);
  return { train: examples.slice(0, cut), holdout: examples.slice(cut) };
}

export type PromotionOptions = {
  /** Fewest holdout labels to judge on. Default 200. */
  minHoldout?: number;
  /** Fewest positive holdout labels. Default 10. */
  minPositives?: number;
  /** Log-loss must fall by at least this fraction of the active's, to ignore noise. Default 0.001. */
  minRelativeGain?: number;
  /** Largest AUC drop tolerated. Default 0.005. */
  maxAucDrop?: number;
  /** Largest ECE rise tolerated. Default 0.01. */
  maxEceRise?: number;
  /**
   * The paired log-loss gain on the holdout (`pairedGain`): when given, the candidate must
   * also be better by more than `minZ` standard errors of it — the same labels judge both
   * models, so most of the holdout's noise cancels, and a refit that only fits noise (the
   * priors were already right) is not promoted. Default minZ 2.
   */
  paired?: { gain: number; se: number };
  minZ?: number;
};

const fmt = (v: number, digits: number): string => v.toFixed(digits);
const count = (v: number): string => v.toLocaleString("en-US");

/**
 * Whether a candidate (refit) should replace the active model, both evaluated
 * on the same holdout: only on enough labels, and only when the candidate's
 * log-loss is lower by a margin while AUC and calibration do not get worse
 * beyond a small tolerance. `reason` is a sentence with the figures.
 */
export function shouldPromote(
  candidate: Metrics,
  active: Metrics,
  o: PromotionOptions = { minHoldout: 200, minPositives: 10 },
): { promote: boolean; reason: string } {
  const {
    minHoldout = 200,
    minPositives = 10,
    minRelativeGain = 0.001,
    maxAucDrop = 0.005,
    maxEceRise = 0.01,
    minZ = 2,
  } = o;
  const no = (reason: string) => ({ promote: false, reason: `not promoted: ${reason}` });
  if (candidate.n !== active.n || candidate.positives !== active.positives) {
    return no(
      `the metrics come from different holdouts (${count(candidate.n)} vs ${count(active.n)} labels)`,
    );
  }
  if (candidate.n < minHoldout) {
    return no(`only ${count(candidate.n)} holdout labels (need ${count(minHoldout)})`);
  }
  if (candidate.positives < minPositives) {
    return no(
      `only ${count(candidate.positives)} positive holdout labels (need ${count(minPositives)})`,
    );
  }
  const figures = [candidate.auc, active.auc, candidate.logLoss, active.logLoss];
  if (!figures.every(Number.isFinite) || !Number.isFinite(candidate.ece)) {
    return no(`the holdout metrics are not all finite (one class only?)`);
  }
  const detail = `(AUC ${fmt(candidate.auc, 3)} vs ${fmt(active.auc, 3)}, ECE ${fmt(candidate.ece, 3)} vs ${fmt(active.ece, 3)})`;
  const on = `on ${count(candidate.n)} recent labels`;
  if (!(candidate.logLoss < active.logLoss * (1 - minRelativeGain))) {
    const vs =
      candidate.logLoss < active.logLoss
        ? `is less than ${fmt(minRelativeGain * 100, 1)}% below active`
        : "≥ active";
    return no(
      `log-loss ${fmt(candidate.logLoss, 4)} ${vs} ${fmt(active.logLoss, 4)} ${on} ${detail}`,
    );
  }
  if (o.paired && !(o.paired.gain > minZ * o.paired.se)) {
    return no(
      `log-loss ${fmt(candidate.logLoss, 4)} vs active ${fmt(active.logLoss, 4)} ${on}: the paired gain ${fmt(o.paired.gain, 5)} is within ${minZ} standard errors (${fmt(o.paired.se, 5)}) of none ${detail}`,
    );
  }
  if (candidate.auc < active.auc - maxAucDrop) {
    return no(
      `AUC ${fmt(candidate.auc, 3)} is more than ${maxAucDrop} below active ${fmt(active.auc, 3)} ${on} (log-loss ${fmt(candidate.logLoss, 4)} vs ${fmt(active.logLoss, 4)})`,
    );
  }
  if (candidate.ece > active.ece + maxEceRise) {
    return no(
      `ECE ${fmt(candidate.ece, 3)} is more than ${maxEceRise} above active ${fmt(active.ece, 3)} ${on} (log-loss ${fmt(candidate.logLoss, 4)} vs ${fmt(active.logLoss, 4)})`,
    );
  }
  return {
    promote: true,
    reason: `candidate log-loss ${fmt(candidate.logLoss, 4)} < active ${fmt(active.logLoss, 4)} ${on} ${detail}`,
  };
}

/**
 * Quantile of sorted values by linear interpolation between order statistics
 * (the R-7 / numpy default): q = 0.9 over 1..1000 gives 900.1.
 */
function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Probability cut-offs for `p ≥ hot` → hot and `p ≥ warm` → warm, so that the
 * top `o.hot` of these predictions are hot and the top `o.warm` (cumulative:
 * 0.4 = the hot 10% plus the next 30%) are warm or hot. The cut-offs are the
 * (1 − fraction) quantiles. Ties: predictions equal to a cut-off all go to the
 * higher tier, so a tier never depends on input order, and a tie straddling
 * the cut makes that tier a little larger than its fraction.
 */
export function tierThresholds(
  predictions: readonly number[],
  o: { hot: number; warm: number } = { hot: 0.1, warm: 0.4 },
): { hot: number; warm: number } {
  if (predictions.length === 0) throw new Error("no predictions to take tiers from");
  if (!(o.hot > 0 && o.hot <= o.warm && o.warm <= 1)) {
    throw new Error(`tier fractions must satisfy 0 < hot ≤ warm ≤ 1 (got ${o.hot}, ${o.warm})`);
  }
  const sorted = [...predictions].sort((a, b) => a - b);
  if (!sorted.every(Number.isFinite)) throw new Error("predictions must be finite numbers");
  return { hot: quantile(sorted, 1 - o.hot), warm: quantile(sorted, 1 - o.warm) };
}
