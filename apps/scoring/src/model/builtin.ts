/**
 * The built-in lead model: logistic regression over the named features, so
 * every score decomposes exactly into per-feature contributions (the reasons
 * operators read). Deterministic for the same inputs and weights. Its score is
 * the probability that a contacted lead converts (the campaign's reward), calibrated by
 * refits on settled sends (fit.ts, refit.ts; ADR 0017); weights are versioned by the
 * caller (model-store.ts) so any version can be rolled back to.
 */
import type { ScoreReason, Tier, TierCutoffs } from "@pw/events";
import type { Feature } from "./features.ts";

export type Weights = Record<string, number>;

/** Hand-set priors: a sensible model before any outcome is seen. */
export const INITIAL_WEIGHTS: Weights = {
  bias: -2.2,
  seniority: 1.4,
  company_size_fit: 0.9,
  industry_fit: 0.8,
  intent: 2.6,
  engagement: 1.8,
  opted_out: -4,
};

/**
 * The hand-set priors' tiers: fixed cut-offs on their score. A refit replaces them with
 * percentiles of recently scored leads (ADR 0017), so "hot" keeps meaning "among the top
 * tenth" however the model's probabilities move.
 */
export const PRIOR_TIERS: TierCutoffs = {
  hot: 0.7,
  warm: 0.4,
  basis: "the hand-set priors' fixed cut-offs (hot ≥ 70%, warm ≥ 40%)",
};

export type ModelScore = {
  /** The probability of conversion in percent (0–100, one decimal). */
  score: number;
  /** The same, unrounded (0–1). */
  probability: number;
  tier: Tier;
  reasons: ScoreReason[];
  logit: number;
};

const LABELS: Record<string, string> = {
  seniority: "Seniority",
  company_size_fit: "Company size",
  industry_fit: "Industry fit",
  intent: "Intent",
  engagement: "Engagement",
  opted_out: "Opt-out",
};

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * The tier of a probability (0–1) under `tiers`. A lead exactly at a cut-off is in the
 * higher tier — to within float rounding: the cut-offs are computed from features read
 * back from the database, whose key order (so the order of the sum) may differ.
 */
export function tierOf(probability: number, tiers: TierCutoffs = PRIOR_TIERS): Tier {
  const at = (cut: number) => probability >= cut - 1e-12;
  return at(tiers.hot) ? "hot" : at(tiers.warm) ? "warm" : "cold";
}

const points = (p: number) => Math.round(p * 1000) / 10;

/**
 * The probability, its tier and the reasons. Reasons add up: a baseline (a lead with
 * every feature at zero, `sigmoid(bias)`) plus each feature's contribution is the score
 * (up to rounding). A feature's contribution is its share of the move along the straight
 * line from the baseline's logit to the lead's — its logit term times the sigmoid's mean
 * slope over that line (integrated gradients, exact for one sigmoid) — so contributions
 * keep their signs and proportions, and none is counted twice.
 */
export function scoreFeatures(
  features: Feature[],
  weights: Weights,
  tiers: TierCutoffs = PRIOR_TIERS,
): ModelScore {
  const bias = weights.bias ?? 0;
  let logit = bias;
  const contributions: { f: Feature; logit: number }[] = [];
  for (const f of features) {
    const c = (weights[f.name] ?? 0) * f.value;
    logit += c;
    contributions.push({ f, logit: c });
  }
  const p = sigmoid(logit);
  const base = sigmoid(bias);
  const moved = logit - bias;
  const slope = Math.abs(moved) > 1e-9 ? (p - base) / moved : base * (1 - base);
  const reasons: ScoreReason[] = contributions
    .filter((c) => c.logit !== 0)
    .map((c) => ({
      code: `feature.${c.f.name}`,
      label: `${LABELS[c.f.name] ?? c.f.name}: ${c.f.fact}`,
      contribution: points(c.logit * slope),
    }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  reasons.push({
    code: "model.baseline",
    label: "Baseline: a lead with none of these facts",
    contribution: points(base),
  });
  return { score: points(p), probability: p, tier: tierOf(p, tiers), reasons, logit };
}
