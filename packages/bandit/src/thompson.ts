/**
 * Bernoulli Thompson sampling for one segment's message variants: burn-in
 * (uniform until every arm has a minimum of exposures), a traffic floor per
 * arm, allocation by P(best)^sharpen, an optional per-arm (pooled) prior, discounting for drifting worlds, P(best) by
 * sampling, suppression of arms that stay unlikely to be best, and the
 * propensity of each decision for off-policy evaluation. Pure: the caller owns
 * the state and the randomness.
 */
import type { RecentCounts } from "./change.ts";
import { beta, type Rng } from "./random.ts";

/** A Beta(alpha, beta) distribution over a conversion rate. */
export type BetaPrior = { alpha: number; beta: number };

export type ArmState = {
  id: string;
  /** Reward counts (fractional once discounting applies). */
  successes: number;
  failures: number;
  exposures: number;
  status: "active" | "suppressed" | "paused";
  /** Consecutive checks with P(best) under the suppression threshold. */
  lowChecks?: number;
  /**
   * This arm's own prior (e.g. pooled across segments by `pooledPriors`); when
   * absent, `PolicyOptions.prior` applies.
   */
  prior?: BetaPrior;
  /** Recent-window counts for change detection (`change.ts`); absent: not tracked. */
  recent?: RecentCounts;
  /**
   * Long-run counts of sends whose attribution window closed (`change.ts`), the baseline
   * the recent window — also of closed sends — is tested against; absent: the arm's
   * counts (rewards known at once).
   */
  closed?: RecentCounts;
};

export type PolicyOptions = {
  /**
   * Uniform allocation until every active arm has this many observations (its
   * exposures plus the pseudo-observations of a pooled prior: see `inBurnIn`).
   */
  burnIn: number;
  /** Minimum share of traffic each active arm keeps (e.g. 0.01). */
  floor: number;
  /** Prior Beta(a, b) for every arm without a prior of its own (`ArmState.prior`). */
  prior: BetaPrior;
  /** Monte Carlo draws for P(best) and propensities. */
  draws: number;
  /**
   * Traffic outside the floor goes to each arm in proportion to P(best)^sharpen
   * (1, the default, is plain Thompson sampling; above 1 leans harder on the
   * leader). The propensity is always the exact probability used.
   */
  sharpen?: number;
};

/**
 * Tuned with `pnpm sim` (packages/simulator/README.md has the figures): a burn-in
 * of 100 per arm (less costs the five-variant world's share by lead 10,000, more
 * costs thin segments), a 1% floor per arm (2% was worse), and P(best)²
 * allocation, which cuts the five-variant runs that miss ≥ 85% on the best by
 * lead 10,000 from 41% to 12% and lowers regret in every world, for a fatter
 * tail: a run that settles on the runner-up for long (regret > 10%) in 1.2% of
 * five-variant runs, against 0.3% for plain Thompson.
 */
export const DEFAULT_POLICY: PolicyOptions = {
  burnIn: 100,
  floor: 0.01,
  prior: { alpha: 1, beta: 1 },
  draws: 500,
  sharpen: 2,
};

export type Decision = {
  armId: string;
  policy: "burn_in" | "thompson" | "floor";
  /** Probability this arm was chosen under the policy (for IPS). */
  propensity: number;
};

/** The arm's posterior: its own prior (or the policy's) updated with its evidence. */
export function posterior(arm: ArmState, o: Pick<PolicyOptions, "prior">): BetaPrior {
  const prior = arm.prior ?? o.prior;
  return { alpha: prior.alpha + arm.successes, beta: prior.beta + arm.failures };
}

function posteriorDraw(arm: ArmState, o: PolicyOptions, rng: Rng): number {
  const p = posterior(arm, o);
  return beta(p.alpha, p.beta, rng);
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

/** Pseudo-observations an arm's own prior carries beyond the policy's prior. */
function priorWeight(arm: ArmState, o: Pick<PolicyOptions, "prior">): number {
  if (!arm.prior) return 0;
  return Math.max(0, arm.prior.alpha + arm.prior.beta - o.prior.alpha - o.prior.beta);
}

/**
 * True while some of these (active) arms has fewer than `burnIn` observations,
 * counting its prior's pseudo-observations: a pooled prior is evidence from the
 * other segments, so a thin segment does not spend its few leads re-learning it.
 */
export function inBurnIn(arms: ArmState[], o: Pick<PolicyOptions, "burnIn" | "prior">): boolean {
  return arms.some((a) => a.exposures + priorWeight(a, o) < o.burnIn);
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
  if (inBurnIn(active, o)) {
    const arm = active[Math.floor(rng() * k)]!;
    return { armId: arm.id, policy: "burn_in", propensity: 1 / k };
  }
  const floorMass = Math.min(0.5, o.floor * k);
  const probs = pBest ?? probabilityBest(active, o, rng);
  const share = allocation(active, probs, o.sharpen ?? 1);
  const floor = rng() < floorMass;
  // Floor: uniform over active arms; otherwise an arm drawn from its share. Sampling
  // the share itself (rather than a fresh posterior draw, which picks each arm with
  // P(best) only up to Monte Carlo error) makes the propensity exact.
  const arm = floor ? active[Math.floor(rng() * k)]! : pick(active, share, rng);
  return {
    armId: arm.id,
    policy: floor ? "floor" : "thompson",
    propensity: floorMass / k + (1 - floorMass) * share.get(arm.id)!,
  };
}

/** Each active arm's share of the non-floor traffic: P(best)^sharpen, normalised. */
function allocation(
  active: ArmState[],
  pBest: Map<string, number>,
  sharpen: number,
): Map<string, number> {
  const weights = active.map((a) => (pBest.get(a.id) ?? 0) ** sharpen);
  const total = weights.reduce((n, w) => n + w, 0);
  // P(best) computed for other arms than the active ones: fall back to uniform.
  if (!(total > 0)) return new Map(active.map((a) => [a.id, 1 / active.length]));
  return new Map(active.map((a, i) => [a.id, weights[i]! / total]));
}

function pick(active: ArmState[], share: Map<string, number>, rng: Rng): ArmState {
  let x = rng();
  for (const a of active) {
    x -= share.get(a.id)!;
    if (x < 0) return a;
  }
  // Rounding left x a hair above 0: the last arm with a share takes it.
  return active.findLast((a) => share.get(a.id)! > 0) ?? active.at(-1)!;
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

/**
 * Multiplies an arm's evidence by `factor` (exposures are kept: they count sends,
 * not beliefs). Applied to every arm of a segment as leads go by, the posterior
 * forgets at a steady rate and follows a world whose best variant changes.
 */
export function decay(arm: ArmState, factor: number): ArmState {
  return { ...arm, successes: arm.successes * factor, failures: arm.failures * factor };
}

/**
 * Evidence half-life, in leads, for campaigns whose best variant may change:
 * 0.95 per batch of 500 leads, the best of 0.90–0.99 on data/worlds/drifting.json.
 * Costs regret where nothing drifts (five-variant world: about 2.9% → 5.5%).
 */
export const DRIFT_HALF_LIFE_LEADS = 6_750;

/** The factor for `decay` after `leads` more leads (0.5 every `halfLife` leads). */
export function discountFactor(leads: number, halfLife = DRIFT_HALF_LIFE_LEADS): number {
  return 0.5 ** (leads / halfLife);
}

export type SuppressionOptions = {
  /** No arm is suppressed before this many exposures. */
  minExposures: number;
  /** P(best) under which a check counts as low. */
  threshold: number;
  /** Low checks in a row that suppress the arm. */
  consecutiveChecks: number;
};

/**
 * Suppression is permanent (until an operator revives the arm), so it is tuned
 * to be almost never wrong: P(best) under 0.2% — no win in any of 500 (or 400)
 * draws — at three checks in a row after 200 exposures. Looser settings
 * (P(best) < 5% after 500) suppressed the best variant in ~0.5% of runs of the
 * five-variant world. Not for drifting campaigns: a loser that becomes best
 * later would stay suppressed.
 */
export const DEFAULT_SUPPRESSION: SuppressionOptions = {
  minExposures: 200,
  threshold: 0.002,
  consecutiveChecks: 3,
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
