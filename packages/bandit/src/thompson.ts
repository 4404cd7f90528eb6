/**
 * Bernoulli Thompson sampling for one segment's message variants: burn-in
 * (uniform until every arm has a minimum of exposures), a traffic floor per
 * arm, an optional pooled prior, discounting for drifting worlds, P(best) by
 * sampling, suppression of arms that stay unlikely to be best, and the
 * propensity of each decision for off-policy evaluation. Pure: the caller owns
 * the state and the randomness.
 */
import { beta, type Rng } from "./random.ts";

export type ArmState = {
  id: string;
  /** Reward counts (fractional once discounting applies). */
  successes: number;
  failures: number;
  exposures: number;
  status: "active" | "suppressed" | "paused";
  /** Consecutive checks with P(best) under the suppression threshold. */
  lowChecks?: number;
};

export type PolicyOptions = {
  /** Uniform allocation until every active arm has this many exposures. */
  burnIn: number;
  /** Minimum share of traffic each active arm keeps (e.g. 0.01). */
  floor: number;
  /** Prior Beta(a, b) for every arm, e.g. from the pooled rate across segments. */
  prior: { alpha: number; beta: number };
  /** Monte Carlo draws for P(best) and propensities. */
  draws: number;
};

export const DEFAULT_POLICY: PolicyOptions = {
  burnIn: 100,
  floor: 0.01,
  prior: { alpha: 1, beta: 1 },
  draws: 500,
};

export type Decision = {
  armId: string;
  policy: "burn_in" | "thompson" | "floor";
  /** Probability this arm was chosen under the policy (for IPS). */
  propensity: number;
};

function posteriorDraw(arm: ArmState, o: PolicyOptions, rng: Rng): number {
  return beta(o.prior.alpha + arm.successes, o.prior.beta + arm.failures, rng);
}

/** P(each arm is best), estimated with `draws` joint posterior samples. */
export function probabilityBest(arms: ArmState[], o: PolicyOptions, rng: Rng): Map<string, number> {
  const wins = new Map(arms.map((a) => [a.id, 0]));
  for (let d = 0; d < o.draws; d++) {
    let best = arms[0]!;
    let bestDraw = -1;
    for (const a of arms) {
      const x = posteriorDraw(a, o, rng);
      if (x > bestDraw) {
        bestDraw = x;
        best = a;
      }
    }
    wins.set(best.id, wins.get(best.id)! + 1);
  }
  return new Map([...wins].map(([id, w]) => [id, w / o.draws]));
}

export function choose(
  arms: ArmState[],
  o: PolicyOptions,
  rng: Rng,
  pBest?: Map<string, number>,
): Decision {
  const active = arms.filter((a) => a.status === "active");
  if (active.length === 0) throw new Error("no active variant to choose from");
  const k = active.length;
  if (active.some((a) => a.exposures < o.burnIn)) {
    const arm = active[Math.floor(rng() * k)]!;
    return { armId: arm.id, policy: "burn_in", propensity: 1 / k };
  }
  const floorMass = Math.min(0.5, o.floor * k);
  const probs = pBest ?? probabilityBest(active, o, rng);
  if (rng() < floorMass) {
    const arm = active[Math.floor(rng() * k)]!;
    return {
      armId: arm.id,
      policy: "floor",
      propensity: floorMass / k + (1 - floorMass) * (probs.get(arm.id) ?? 0),
    };
  }
  let best = active[0]!;
  let bestDraw = -1;
  for (const a of active) {
    const x = posteriorDraw(a, o, rng);
    if (x > bestDraw) {
      bestDraw = x;
      best = a;
    }
  }
  // Thompson picks an arm with probability P(best): that is its propensity.
  return {
    armId: best.id,
    policy: "thompson",
    propensity: floorMass / k + (1 - floorMass) * (probs.get(best.id) ?? 0),
  };
}

/** Records one exposure's reward, discounting old evidence first (1 = no discount). */
export function update(arm: ArmState, reward: 0 | 1, discount = 1): ArmState {
  return {
    ...arm,
    successes: arm.successes * discount + reward,
    failures: arm.failures * discount + (1 - reward),
    exposures: arm.exposures + 1,
  };
}

export type SuppressionOptions = {
  minExposures: number;
  threshold: number;
  consecutiveChecks: number;
};

/**
 * Arms whose P(best) stays under `threshold` for `consecutiveChecks` checks after
 * `minExposures` are suppressed; the best arm is never suppressed.
 */
export function applySuppression(
  arms: ArmState[],
  pBest: Map<string, number>,
  o: SuppressionOptions,
): { arms: ArmState[]; suppressed: string[] } {
  const suppressed: string[] = [];
  const leader = [...pBest].sort((a, b) => b[1] - a[1])[0]?.[0];
  const next = arms.map((a) => {
    if (a.status !== "active" || a.id === leader) return { ...a, lowChecks: 0 };
    const low = a.exposures >= o.minExposures && (pBest.get(a.id) ?? 0) < o.threshold;
    const lowChecks = low ? (a.lowChecks ?? 0) + 1 : 0;
    if (lowChecks >= o.consecutiveChecks) {
      suppressed.push(a.id);
      return { ...a, status: "suppressed" as const, lowChecks };
    }
    return { ...a, lowChecks };
  });
  return { arms: next, suppressed };
}
