/**
 * Drives the real Thompson-sampling policy (@pw/bandit) against a world with
 * hidden conversion rates, with batched updates as in production, and the
 * baselines (uniform split, A/B then ship the winner, ε-greedy) on the same
 * leads. Regret is measured in expected conversions (the rate of the chosen
 * variant), which is what the policy controls; realised conversions are reported too,
 * and per segment which variant got the traffic at the end of the run. What each send
 * does is the world's recipient model (recipients.ts, through traffic.ts): rewards
 * arrive after their delay and count inside the attribution window, and the engine's
 * guardrails pause a variant for every policy alike — a paused variant gets no traffic.
 */
import {
  type ArmState,
  type ChangeOptions,
  choose,
  DEFAULT_CHANGE,
  DEFAULT_POLICY,
  DEFAULT_POOLED_PRIOR,
  DEFAULT_SUPPRESSION,
  decay,
  type PolicyOptions,
  type PooledPriorOptions,
  type SuppressionOptions,
  seededRng,
  update,
} from "@pw/bandit";
import { pickSegment, ratesAt } from "./leads.ts";
import { thompsonLearner } from "./learner.ts";
import {
  type ArmResult,
  type BlockedSegment,
  type ClockOptions,
  type OutcomeCounts,
  trafficBook,
} from "./traffic.ts";
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
  /** Change detection (Thompson only): a segment whose arm's recent rate departs starts over. */
  change?: ChangeOptions | false;
  /**
   * Thompson judges an arm with its sends in flight counted as the failures their age
   * makes likely (@pw/bandit delay.ts), as the engine does; false: only settled sends.
   */
  delayCorrection?: boolean;
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
  /** Changes detected (Thompson with change detection): the segment started over. */
  changes: { segment: string; arms: string[]; atLead: number }[];
  segments: SegmentResult[];
  /** Per segment × variant: sends, guardrail evidence, and a pause with its reason. */
  arms: ArmResult[];
  /** Segments left with no variant to send (each paused or suppressed). */
  blocked: BlockedSegment[];
  /** What the sends did, over the run (meetings after the window in `lateMeetings`). */
  outcomes: OutcomeCounts;
};

/** Discounted mean (successes over discounted trials) for the greedy baselines. */
const mean = (a: ArmState) => a.successes / Math.max(1e-9, a.successes + a.failures);
/** The arm with the best mean, the first of equals (stable sort). */
const bestByMean = (list: ArmState[]) => [...list].sort((a, b) => mean(b) - mean(a))[0]!;

export function simulate(
  world: World,
  name: PolicyName,
  o: SimOptions & ClockOptions,
): PolicyResult {
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
  const pending: { segment: string; variant: string; reward: 0 | 1 }[] = [];
  const shipped = new Map<string, string>();
  const windowPicks: boolean[] = [];
  const bestShareAt: Record<string, number> = {};
  let conversions = 0;
  let expected = 0;
  let oracle = 0;
  let loserPicks = 0;
  const tailFrom = o.leads - Math.floor(o.leads * (o.tailFraction ?? 0.2));
  const tail = new Map(world.segments.map((s) => [s.name, new Map<string, number>()]));

  const learner = thompsonLearner(o, policy, rng);
  const { pBest, suppressed, changes } = learner;
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
    learner.learn(arms, lead, book);
  };
  const shipIfDue = (lead: number) => {
    if (name === "ab_then_ship" && lead >= Math.min(10_000, o.leads * 0.2) && shipped.size === 0) {
      for (const [segment, list] of arms) shipped.set(segment, bestByMean(list).id);
    }
  };

  const book = trafficBook(world, arms, { ...o, seed });
  for (let lead = 1; lead <= o.leads; lead++) {
    book.advance(lead); // guardrail outcomes that arrived since: a pause applies from here
    const segment = pickSegment(world, worldRng);
    const rates = ratesAt(world, segment, lead, o.leads);
    const best = Math.max(...Object.values(rates));
    oracle += best;
    const list = arms.get(segment)!;
    // Only variants no guardrail paused may be sent, under every policy.
    const active = list.filter((a) => a.status === "active");
    if (active.length === 0) {
      worldRng(); // the lead's outcome draw all the same: every policy sees the same leads
      book.unsent(segment, lead);
    } else {
      const shippedId = shipped.get(segment);
      if (shippedId && !active.some((a) => a.id === shippedId))
        shipped.set(segment, bestByMean(active).id); // the shipped variant was paused
      let variant: string;
      if (name === "thompson") variant = choose(list, policy, rng, pBest.get(segment)).armId;
      else if (name === "uniform") variant = active[Math.floor(rng() * active.length)]!.id;
      else if (name === "ab_then_ship")
        variant = shipped.get(segment) ?? active[Math.floor(rng() * active.length)]!.id;
      else {
        const greedy = bestByMean(active);
        variant = rng() < 0.1 ? active[Math.floor(rng() * active.length)]!.id : greedy.id;
      }
      const rate = rates[variant]!;
      conversions += book.send(segment, variant, lead, worldRng);
      expected += rate;
      const isBest = rate === best;
      if (!isBest) loserPicks++;
      windowPicks.push(isBest);
      if (lead > tailFrom) {
        const counts = tail.get(segment)!;
        counts.set(variant, (counts.get(variant) ?? 0) + 1);
      }
      if (windowPicks.length > 1_000) windowPicks.shift();
    }
    if (lead % batchSize === 0) {
      for (const settled of book.settled(lead)) pending.push(settled);
      flush(lead);
    }
    if (checkpoints.includes(lead))
      bestShareAt[String(lead)] =
        Math.round((1000 * windowPicks.filter(Boolean).length) / Math.max(1, windowPicks.length)) /
        10;
  }
  return {
    conversions,
    expectedConversions: Math.round(expected),
    regretPct: Math.round((1000 * (oracle - expected)) / oracle) / 10,
    bestShareAt,
    loserTrafficPct: Math.round((1000 * loserPicks) / o.leads) / 10,
    suppressed,
    changes,
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
    ...book.results(),
  };
}

/**
 * The engine's default settings, whatever the world (what `pnpm sim` runs, and what the
 * service and `pnpm sim:engine` run by default): the @pw/bandit defaults — pooled
 * priors, suppression, and change detection that starts a segment over (re-testing its
 * suppressed arms) when its market moves; no steady forgetting (ADR 0015).
 */
export function defaultOptions(leads: number, batchSize = 500): SimOptions {
  return {
    leads,
    batchSize,
    policy: DEFAULT_POLICY,
    pooledPrior: DEFAULT_POOLED_PRIOR,
    suppression: DEFAULT_SUPPRESSION,
    change: DEFAULT_CHANGE,
    discount: 1,
  };
}

export function compare(
  world: World,
  o: SimOptions & ClockOptions,
  onPolicy?: (name: PolicyName) => void,
) {
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
