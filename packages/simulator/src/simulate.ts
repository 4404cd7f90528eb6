/**
 * Drives the real Thompson-sampling policy (@pw/bandit) against a world with
 * hidden conversion rates, with batched updates as in production, and the
 * baselines (uniform split, A/B then ship the winner, ε-greedy) on the same
 * leads. Regret is measured in expected conversions (the rate of the chosen
 * variant), which is what the policy controls; realised conversions are reported too,
 * and per segment which variant got the traffic at the end of the run.
 */
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  DEFAULT_POOLED_PRIOR,
  DEFAULT_SUPPRESSION,
  decay,
  discountFactor,
  inBurnIn,
  type PolicyOptions,
  type PooledPriorOptions,
  probabilityBest,
  type Rng,
  type SuppressionOptions,
  seededRng,
  update,
  withPooledPriors,
} from "@pw/bandit";
import type { World } from "./world.ts";

export type PolicyName = "thompson" | "uniform" | "ab_then_ship" | "epsilon_greedy";

export type SimOptions = {
  leads: number;
  seed?: number;
  /** Leads between posterior updates (production batches outcomes). */
  batchSize?: number;
  policy?: Partial<PolicyOptions>;
  suppression?: SuppressionOptions | false;
  /** Prior per segment and variant pooled from the other segments (Thompson only). */
  pooledPrior?: PooledPriorOptions | false;
  /** Multiply all evidence by this at every batch (1 = none); for drifting worlds. */
  discount?: number;
  checkpoints?: number[];
  /** Share of the run, at its end, over which per-segment traffic is reported (default 0.2). */
  tailFraction?: number;
};

export type SegmentResult = {
  segment: string;
  /** The segment's best variant at the end of the run (hidden rates). */
  best: string;
  /** The best variant's share of the segment's traffic over the tail of the run. */
  bestSharePct: number;
  /** The variant that got most of the segment's traffic over the tail. */
  top: string;
  topSharePct: number;
  leads: number;
};

export type PolicyResult = {
  conversions: number;
  expectedConversions: number;
  regretPct: number;
  bestShareAt: Record<string, number>;
  loserTrafficPct: number;
  suppressed: { segment: string; variant: string; atLead: number }[];
  segments: SegmentResult[];
};

/** Discounted mean (successes over discounted trials) for the greedy baselines. */
const mean = (a: ArmState) => a.successes / Math.max(1e-9, a.successes + a.failures);

/** The hidden rates of a segment at a lead (after the drift point, the drifted ones). */
export function ratesAt(
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

/** A segment drawn by the world's shares. */
export function pickSegment(world: World, rng: Rng): string {
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
  const tailFrom = o.leads - Math.floor(o.leads * (o.tailFraction ?? 0.2));
  const tail = new Map(world.segments.map((s) => [s.name, new Map<string, number>()]));

  const flush = (lead: number) => {
    for (const p of pending) {
      const list = arms.get(p.segment)!;
      const i = list.findIndex((a) => a.id === p.variant);
      list[i] = update(list[i]!, p.reward);
    }
    pending.length = 0;
    const discount = o.discount ?? 1;
    if (discount < 1)
      for (const [segment, list] of arms)
        arms.set(
          segment,
          list.map((a) => decay(a, discount)),
        );
    if (name !== "thompson") return shipIfDue(lead);
    if (o.pooledPrior)
      for (const [segment, list] of withPooledPriors(arms, o.pooledPrior, policy.prior))
        arms.set(segment, list);
    for (const [segment, list] of arms) {
      const active = list.filter((a) => a.status === "active");
      const probs = probabilityBest(active, policy, rng);
      pBest.set(segment, probs);
      // Suppression starts after the burn-in, when P(best) means something.
      if (o.suppression && !inBurnIn(active, policy)) {
        const r = applySuppression(list, probs, o.suppression);
        arms.set(segment, r.arms);
        for (const v of r.suppressed) suppressed.push({ segment, variant: v, atLead: lead });
      }
    }
  };
  const shipIfDue = (lead: number) => {
    if (name === "ab_then_ship" && lead >= Math.min(10_000, o.leads * 0.2) && shipped.size === 0) {
      for (const [segment, list] of arms) {
        const best = [...list].sort((a, b) => mean(b) - mean(a))[0]!;
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
      const greedy = [...list].sort((a, b) => mean(b) - mean(a))[0]!;
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
    if (lead > tailFrom) {
      const counts = tail.get(segment)!;
      counts.set(variant, (counts.get(variant) ?? 0) + 1);
    }
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
    segments: world.segments.map((s) => {
      const rates = ratesAt(world, s.name, o.leads, o.leads);
      const best = Object.entries(rates).sort((a, b) => b[1] - a[1])[0]![0];
      const counts = tail.get(s.name)!;
      const leads = [...counts.values()].reduce((n, c) => n + c, 0);
      const [top, topCount] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ["", 0];
      const pct = (c: number) => Math.round((1000 * c) / Math.max(1, leads)) / 10;
      return {
        segment: s.name,
        best,
        bestSharePct: pct(counts.get(best) ?? 0),
        top,
        topSharePct: pct(topCount),
        leads,
      };
    }),
  };
}

/**
 * The engine's recommended settings for a world (what `pnpm sim` runs): the
 * @pw/bandit defaults, with suppression for a stationary world, or instead
 * discounting (half-life `DRIFT_HALF_LIFE_LEADS`) for one that drifts — a
 * suppressed loser could not come back when it becomes the best.
 */
export function recommended(world: World, leads: number, batchSize = 500): SimOptions {
  const drift = Boolean(world.drift);
  return {
    leads,
    batchSize,
    policy: DEFAULT_POLICY,
    pooledPrior: DEFAULT_POOLED_PRIOR,
    suppression: drift ? false : DEFAULT_SUPPRESSION,
    discount: drift ? discountFactor(batchSize) : 1,
  };
}

export function compare(world: World, o: SimOptions, onPolicy?: (name: PolicyName) => void) {
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
    policies: Object.fromEntries(
      policies.map((p) => {
        onPolicy?.(p);
        return [p, simulate(world, p, o)];
      }),
    ),
  };
}
