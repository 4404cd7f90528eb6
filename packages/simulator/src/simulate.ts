/**
 * Drives the real Thompson-sampling policy (@pw/bandit) against a world with
 * hidden conversion rates, with batched updates as in production, and the
 * baselines (uniform split, A/B then ship the winner, ε-greedy) on the same
 * leads. Regret is measured in expected conversions (the rate of the chosen
 * variant), which is what the policy controls; realised conversions are reported too.
 */
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  type PolicyOptions,
  probabilityBest,
  type Rng,
  seededRng,
  update,
} from "@pw/bandit";
import type { World } from "./world.ts";

export type PolicyName = "thompson" | "uniform" | "ab_then_ship" | "epsilon_greedy";

export type SimOptions = {
  leads: number;
  seed?: number;
  /** Leads between posterior updates (production batches outcomes). */
  batchSize?: number;
  policy?: Partial<PolicyOptions>;
  suppression?: { minExposures: number; threshold: number; consecutiveChecks: number } | false;
  /** Multiply all evidence by this at every batch (1 = none); for drifting worlds. */
  discount?: number;
  checkpoints?: number[];
};

export type PolicyResult = {
  conversions: number;
  expectedConversions: number;
  regretPct: number;
  bestShareAt: Record<string, number>;
  loserTrafficPct: number;
  suppressed: { segment: string; variant: string; atLead: number }[];
};

function ratesAt(
  world: World,
  segment: string,
  lead: number,
  total: number,
): Record<string, number> {
  const base = world.segments.find((s) => s.name === segment)!.rates;
  if (world.drift && lead >= world.drift.atFraction * total)
    return world.drift.rates[segment] ?? base;
  return base;
}

function pickSegment(world: World, rng: Rng): string {
  const total = world.segments.reduce((n, s) => n + s.share, 0);
  let x = rng() * total;
  for (const s of world.segments) {
    x -= s.share;
    if (x <= 0) return s.name;
  }
  return world.segments.at(-1)!.name;
}

export function simulate(world: World, name: PolicyName, o: SimOptions): PolicyResult {
  const seed = o.seed ?? 1;
  const worldRng = seededRng(seed); // same leads and outcomes for every policy
  const rng = seededRng(seed * 7919 + 1);
  const policy: PolicyOptions = { ...DEFAULT_POLICY, ...o.policy };
  const batchSize = o.batchSize ?? 500;
  const checkpoints = o.checkpoints ?? [1_000, 5_000, 10_000, 25_000, o.leads];
  const arms = new Map(
    world.segments.map((s) => [
      s.name,
      world.variants.map(
        (v): ArmState => ({ id: v, successes: 0, failures: 0, exposures: 0, status: "active" }),
      ),
    ]),
  );
  const pBest = new Map<string, Map<string, number>>();
  const pending: { segment: string; variant: string; reward: 0 | 1 }[] = [];
  const shipped = new Map<string, string>();
  const windowPicks: boolean[] = [];
  const bestShareAt: Record<string, number> = {};
  const suppressed: PolicyResult["suppressed"] = [];
  let conversions = 0;
  let expected = 0;
  let oracle = 0;
  let loserPicks = 0;

  const flush = (lead: number) => {
    for (const p of pending) {
      const list = arms.get(p.segment)!;
      const i = list.findIndex((a) => a.id === p.variant);
      list[i] = update(list[i]!, p.reward);
    }
    pending.length = 0;
    for (const [segment, list] of arms) {
      if (o.discount && o.discount < 1)
        for (const a of list)
          Object.assign(a, {
            successes: a.successes * o.discount,
            failures: a.failures * o.discount,
          });
      if (name !== "thompson") continue;
      const active = list.filter((a) => a.status === "active");
      const probs = probabilityBest(active, policy, rng);
      pBest.set(segment, probs);
      if (o.suppression && active.every((a) => a.exposures >= policy.burnIn)) {
        const r = applySuppression(list, probs, o.suppression);
        arms.set(segment, r.arms);
        for (const v of r.suppressed) suppressed.push({ segment, variant: v, atLead: lead });
      }
    }
    if (name === "ab_then_ship" && lead >= Math.min(10_000, o.leads * 0.2) && shipped.size === 0) {
      for (const [segment, list] of arms) {
        const best = [...list].sort(
          (a, b) => b.successes / Math.max(1, b.exposures) - a.successes / Math.max(1, a.exposures),
        )[0]!;
        shipped.set(segment, best.id);
      }
    }
  };

  for (let lead = 1; lead <= o.leads; lead++) {
    const segment = pickSegment(world, worldRng);
    const rates = ratesAt(world, segment, lead, o.leads);
    const list = arms.get(segment)!;
    let variant: string;
    if (name === "thompson") variant = choose(list, policy, rng, pBest.get(segment)).armId;
    else if (name === "uniform") variant = list[Math.floor(rng() * list.length)]!.id;
    else if (name === "ab_then_ship")
      variant = shipped.get(segment) ?? list[Math.floor(rng() * list.length)]!.id;
    else {
      const greedy = [...list].sort(
        (a, b) => b.successes / Math.max(1, b.exposures) - a.successes / Math.max(1, a.exposures),
      )[0]!;
      variant = rng() < 0.1 ? list[Math.floor(rng() * list.length)]!.id : greedy.id;
    }
    const best = Math.max(...Object.values(rates));
    const rate = rates[variant]!;
    const reward: 0 | 1 = worldRng() < rate ? 1 : 0;
    conversions += reward;
    expected += rate;
    oracle += best;
    const isBest = rate === best;
    if (!isBest) loserPicks++;
    windowPicks.push(isBest);
    if (windowPicks.length > 1_000) windowPicks.shift();
    pending.push({ segment, variant, reward });
    if (lead % batchSize === 0) flush(lead);
    if (checkpoints.includes(lead))
      bestShareAt[String(lead)] =
        Math.round((1000 * windowPicks.filter(Boolean).length) / windowPicks.length) / 10;
  }
  return {
    conversions,
    expectedConversions: Math.round(expected),
    regretPct: Math.round((1000 * (oracle - expected)) / oracle) / 10,
    bestShareAt,
    loserTrafficPct: Math.round((1000 * loserPicks) / o.leads) / 10,
    suppressed,
  };
}

export function compare(world: World, o: SimOptions) {
  let oracle = 0;
  const rng = seededRng(o.seed ?? 1);
  for (let lead = 1; lead <= o.leads; lead++) {
    const segment = pickSegment(world, rng);
    oracle += Math.max(...Object.values(ratesAt(world, segment, lead, o.leads)));
    rng(); // keep the stream aligned with simulate(): one draw for the outcome
  }
  const policies: PolicyName[] = ["thompson", "uniform", "ab_then_ship", "epsilon_greedy"];
  return {
    world: world.name,
    leads: o.leads,
    oracleConversions: Math.round(oracle),
    policies: Object.fromEntries(policies.map((p) => [p, simulate(world, p, o)])),
  };
}
