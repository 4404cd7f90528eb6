/**
 * Candidate policies as data (`thompson:floor=0.05`, `threshold:0.1`, `uniform`,
 * `fixed:case_study`) and their action probabilities in a logged state, computed
 * with the same @pw/bandit functions the engine decides with. A candidate is a
 * decision rule applied to each logged state as it was: OPE says what that rule
 * would have earned on the states the logger visited, not how a different
 * learning loop would have moved through states of its own.
 */
import { type ArmState, inBurnIn, probabilityBest, type Rng, seededRng } from "@pw/bandit";
import type { ContextArm, DecisionContext } from "./decision-log.ts";

type Prior = { alpha: number; beta: number };

/** The options that shape the engine's action probabilities (`PolicyOptions` minus `draws`). */
type Policy = DecisionContext["policy"];

/** Logging-policy options a candidate may change; the rest stay as logged. */
export type PolicyOverrides = { burnIn?: number; floor?: number; prior?: Prior; sharpen?: number };

export type Candidate =
  /** The engine's Thompson policy with some options changed (none: the logger replayed). */
  | { kind: "thompson"; overrides: PolicyOverrides }
  /**
   * Arms whose P(best) in the logged state is under `threshold` are excluded (never
   * the leader, and not during burn-in), then Thompson over the rest.
   */
  | { kind: "threshold"; threshold: number; overrides: PolicyOverrides }
  | { kind: "uniform" }
  /** Always `variant` when it is active; otherwise the logged Thompson policy. */
  | { kind: "fixed"; variant: string };

export class CandidateSpecError extends Error {
  override name = "CandidateSpecError";
}

const fail = (spec: string, why: string): never => {
  throw new CandidateSpecError(`--candidate ${spec}: ${why}`);
};

function parseNumber(spec: string, key: string, text: string): number {
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x)) fail(spec, `${key}=${text} is not a number`);
  return x;
}

function parseOverrides(spec: string, parts: string[]): PolicyOverrides {
  const o: PolicyOverrides = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 1) fail(spec, `"${part}" is not key=value (keys: floor, prior, burnIn, sharpen)`);
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    switch (key.toLowerCase().replace("_", "")) {
      case "floor": {
        const floor = parseNumber(spec, key, value);
        if (floor < 0 || floor > 1) fail(spec, `floor=${value} must be in [0, 1]`);
        o.floor = floor;
        break;
      }
      case "burnin": {
        const burnIn = parseNumber(spec, key, value);
        if (!Number.isInteger(burnIn) || burnIn < 0)
          fail(spec, `burnIn=${value} must be a whole number ≥ 0`);
        o.burnIn = burnIn;
        break;
      }
      case "sharpen": {
        const sharpen = parseNumber(spec, key, value);
        if (!(sharpen > 0)) fail(spec, `sharpen=${value} must be > 0`);
        o.sharpen = sharpen;
        break;
      }
      case "prior": {
        const [a, b, ...rest] = value.split("/");
        const alpha = Number(a);
        const beta = Number(b);
        if (rest.length > 0 || !(alpha > 0) || !(beta > 0) || !Number.isFinite(alpha + beta))
          fail(spec, `prior=${value} must be alpha/beta with both > 0, e.g. prior=2/60`);
        o.prior = { alpha, beta };
        break;
      }
      case "draws":
        fail(spec, "draws only sets Monte Carlo precision, not the policy: use --draws");
        break;
      default:
        fail(spec, `unknown option "${key}" (options: floor, prior, burnIn, sharpen)`);
    }
  }
  return o;
}

/** `thompson[:k=v,…]`, `threshold:<p>[,k=v,…]`, `uniform`, `fixed:<variantId>`. */
export function parseCandidate(spec: string): Candidate {
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const args = colon < 0 ? [] : spec.slice(colon + 1).split(",");
  switch (kind) {
    case "thompson":
      return {
        kind,
        overrides: parseOverrides(
          spec,
          args.filter((a) => a !== ""),
        ),
      };
    case "threshold": {
      const [first, ...rest] = args;
      if (first === undefined || first === "")
        return fail(spec, "needs a threshold, e.g. threshold:0.1");
      const threshold = parseNumber(spec, "threshold", first);
      if (!(threshold > 0 && threshold < 1)) fail(spec, `threshold ${first} must be in (0, 1)`);
      return { kind, threshold, overrides: parseOverrides(spec, rest) };
    }
    case "uniform":
      if (args.length > 0) fail(spec, "uniform takes no options");
      return { kind };
    case "fixed": {
      const variant = args.join(",");
      if (variant === "") fail(spec, "needs a variant id, e.g. fixed:case_study");
      return { kind, variant };
    }
    default:
      return fail(spec, `unknown candidate "${kind}" (thompson, threshold, uniform, fixed)`);
  }
}

/** P(best) of each arm under a prior (arms' own priors win, as in @pw/bandit). */
export type PBest = (arms: ContextArm[], prior: Prior) => Map<string, number>;

/**
 * Monte-Carlo P(best) through `probabilityBest`, cached per identical evidence:
 * P(best) depends only on successes, failures and priors, and consecutive
 * decisions share them until outcomes arrive. Seeded, so a run is reproducible.
 */
export function pBestEstimator(o: { draws: number; seed: number }): PBest & { size(): number } {
  const rng: Rng = seededRng(o.seed);
  const cache = new Map<string, Map<string, number>>();
  const policy = (prior: Prior) => ({ burnIn: 0, floor: 0, prior, draws: o.draws });
  const estimate = (arms: ContextArm[], prior: Prior) => {
    const key = `${prior.alpha}/${prior.beta}|${arms
      .map(
        (a) =>
          `${a.id}:${a.successes}:${a.failures}:${a.prior ? `${a.prior.alpha}/${a.prior.beta}` : ""}`,
      )
      .join("|")}`;
    let p = cache.get(key);
    if (!p) {
      // Bounded: a long log of distinct states should not hold every one.
      if (cache.size >= 100_000) cache.clear();
      p = probabilityBest(arms, policy(prior), rng);
      cache.set(key, p);
    }
    return p;
  };
  return Object.assign(estimate, { size: () => cache.size });
}

const uniform = (arms: ContextArm[]) => new Map(arms.map((a) => [a.id, 1 / arms.length]));

/**
 * Mirrors `choose` in @pw/bandit: uniform during burn-in; else the floor mass spread
 * evenly and the rest in proportion to P(best)^sharpen (plain Thompson at 1).
 */
function thompson(arms: ContextArm[], o: Policy, pBest: PBest): Map<string, number> {
  const k = arms.length;
  // The bandit's own rule: a pooled prior's pseudo-observations count towards burn-in.
  if (inBurnIn(arms as ArmState[], o)) return uniform(arms);
  const floorMass = Math.min(0.5, o.floor * k);
  const p = pBest(arms, o.prior);
  const weights = arms.map((a) => (p.get(a.id) ?? 0) ** (o.sharpen ?? 1));
  const total = weights.reduce((n, w) => n + w, 0);
  return new Map(
    arms.map((a, i) => [
      a.id,
      floorMass / k + (1 - floorMass) * (total > 0 ? weights[i]! / total : 1 / k),
    ]),
  );
}

function withOverrides(ctx: DecisionContext, overrides: PolicyOverrides) {
  const active = ctx.arms.filter((a) => a.status === "active");
  // A candidate prior replaces every prior, the arms' pooled ones included.
  const arms = overrides.prior ? active.map(({ prior: _, ...a }) => a) : active;
  return { arms, o: { ...ctx.policy, ...overrides } };
}

/** The candidate's probability of each active arm in the logged state (sums to 1). */
export function candidateDistribution(
  c: Candidate,
  ctx: DecisionContext,
  pBest: PBest,
): Map<string, number> {
  switch (c.kind) {
    case "thompson": {
      const { arms, o } = withOverrides(ctx, c.overrides);
      return thompson(arms, o, pBest);
    }
    case "threshold": {
      const { arms, o } = withOverrides(ctx, c.overrides);
      if (inBurnIn(arms as ArmState[], o)) return uniform(arms);
      const p = pBest(arms, o.prior);
      let leader = arms[0]!.id;
      for (const a of arms) if (p.get(a.id)! > p.get(leader)!) leader = a.id;
      const kept = arms.filter((a) => a.id === leader || p.get(a.id)! >= c.threshold);
      return thompson(kept, o, pBest);
    }
    case "uniform":
      return uniform(ctx.arms.filter((a) => a.status === "active"));
    case "fixed": {
      const arm = ctx.arms.find((a) => a.id === c.variant);
      if (arm?.status === "active") return new Map([[c.variant, 1]]);
      return thompson(withOverrides(ctx, {}).arms, ctx.policy, pBest);
    }
  }
}
