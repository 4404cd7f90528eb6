/**
 * The built-in lead model: logistic regression over the named features, so
 * every score decomposes exactly into per-feature contributions (the reasons
 * operators read). Deterministic for the same inputs and weights. Learns
 * online from outcomes with L2-regularised SGD steps; weights are versioned
 * by the caller (see model-store.ts) so a bad update can be rolled back.
 */
import type { ScoreReason, Tier } from "@pw/events";
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

export const TIERS = { hot: 70, warm: 40 } as const;

export type ModelScore = { score: number; tier: Tier; reasons: ScoreReason[]; logit: number };

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

export function tierOf(score: number): Tier {
  return score >= TIERS.hot ? "hot" : score >= TIERS.warm ? "warm" : "cold";
}

export function scoreFeatures(features: Feature[], weights: Weights): ModelScore {
  let logit = weights.bias ?? 0;
  const contributions: { f: Feature; logit: number }[] = [];
  for (const f of features) {
    const c = (weights[f.name] ?? 0) * f.value;
    logit += c;
    contributions.push({ f, logit: c });
  }
  const p = sigmoid(logit);
  const score = Math.round(p * 1000) / 10;
  // Contribution in points: the score's move when this feature is removed (exact
  // in logit space; shown in points so operators can compare them).
  const reasons = contributions
    .filter((c) => c.logit !== 0)
    .map((c) => ({
      code: `feature.${c.f.name}`,
      label: `${LABELS[c.f.name] ?? c.f.name}: ${c.f.fact}`,
      contribution: Math.round((p - sigmoid(logit - c.logit)) * 1000) / 10,
    }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
    .slice(0, 5);
  return { score, tier: tierOf(score), reasons, logit };
}

/**
 * One online step towards `label` (1 = converted / meeting booked, 0 = opted
 * out): gradient of the log-loss with L2 regularisation towards the priors, so
 * a handful of outcomes cannot run the weights away.
 */
export function learn(
  weights: Weights,
  features: Feature[],
  label: 0 | 1,
  opts = { rate: 0.05, l2: 0.01 },
): Weights {
  const p = sigmoid(scoreFeatures(features, weights).logit);
  const error = label - p;
  const next: Weights = { ...weights };
  next.bias =
    (weights.bias ?? 0) +
    opts.rate * (error - opts.l2 * ((weights.bias ?? 0) - (INITIAL_WEIGHTS.bias ?? 0)));
  for (const f of features) {
    const w = weights[f.name] ?? 0;
    const prior = INITIAL_WEIGHTS[f.name] ?? 0;
    next[f.name] = w + opts.rate * (error * f.value - opts.l2 * (w - prior));
  }
  return next;
}
