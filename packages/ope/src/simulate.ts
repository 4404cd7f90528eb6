/**
 * Decision logs from a simulator world: the real logging policy (`choose` from
 * @pw/bandit with batched updates and suppression, as in `pnpm sim`) or a
 * uniform logger, each decision recorded with its propensity, the state it was
 * made in and — because the world is known — every variant's true rate, so a
 * candidate's true expected reward can be set beside its estimate.
 */
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  type PolicyOptions,
  probabilityBest,
  type SuppressionOptions,
  seededRng,
  update,
} from "@pw/bandit";
import { defaultOptions, pickSegment, ratesAt, type World } from "@pw/simulator";
import type { DecisionContext, LoggedDecision } from "./decision-log.ts";

export type SimLogOptions = {
  leads: number;
  seed?: number;
  /** `thompson`: the engine's policy; `uniform`: every active variant with probability 1/k. */
  logging?: "thompson" | "uniform";
  policy?: Partial<PolicyOptions>;
  /** Leads between posterior updates (production batches outcomes). */
  batchSize?: number;
  suppression?: SuppressionOptions | false;
  /** Multiply all evidence by this at every batch (1 = none); for drifting worlds. */
  discount?: number;
  onProgress?: (done: number, total: number) => void;
};

/** The options `pnpm sim` runs every world with (its suppression and discount). */
export function defaultSimOptions(): Pick<SimLogOptions, "suppression" | "discount"> {
  const r = defaultOptions(0);
  return { suppression: r.suppression ?? false, discount: r.discount ?? 1 };
}

export function simulateLogs(world: World, o: SimLogOptions): LoggedDecision[] {
  const seed = o.seed ?? 1;
  const worldRng = seededRng(seed);
  const rng = seededRng(seed * 7919 + 1);
  const policy: PolicyOptions = { ...DEFAULT_POLICY, ...o.policy };
  const logging = o.logging ?? "thompson";
  const batchSize = o.batchSize ?? 500;
  const arms = new Map(
    world.segments.map((s) => [
      s.name,
      world.variants.map(
        (v): ArmState => ({ id: v, successes: 0, failures: 0, exposures: 0, status: "active" }),
      ),
    ]),
  );
  // The state only changes at a batch boundary: one snapshot per segment and batch,
  // shared by that batch's records (as the engine would store it in each row).
  const snapshot = (list: ArmState[]): DecisionContext => ({
    arms: list.map((a) => ({ ...a })),
    policy,
  });
  const contexts = new Map([...arms].map(([s, list]) => [s, snapshot(list)]));
  const pBest = new Map<string, Map<string, number>>();
  const pending: { segment: string; variant: string; reward: 0 | 1 }[] = [];
  const records: LoggedDecision[] = [];

  const flush = () => {
    for (const p of pending) {
      const list = arms.get(p.segment)!;
      const i = list.findIndex((a) => a.id === p.variant);
      list[i] = update(list[i]!, p.reward);
    }
    pending.length = 0;
    for (const [segment, list] of arms) {
      if (o.discount && o.discount < 1)
        for (const a of list) {
          a.successes *= o.discount;
          a.failures *= o.discount;
        }
      if (logging === "thompson") {
        const active = list.filter((a) => a.status === "active");
        const probs = probabilityBest(active, policy, rng);
        pBest.set(segment, probs);
        if (o.suppression && active.every((a) => a.exposures >= policy.burnIn))
          arms.set(segment, applySuppression(list, probs, o.suppression).arms);
      }
      contexts.set(segment, snapshot(arms.get(segment)!));
    }
  };

  for (let lead = 1; lead <= o.leads; lead++) {
    const segment = pickSegment(world, worldRng);
    const rates = ratesAt(world, segment, lead, o.leads);
    const list = arms.get(segment)!;
    let variant: string;
    let propensity: number;
    let how: string;
    if (logging === "thompson") {
      const d = choose(list, policy, rng, pBest.get(segment));
      variant = d.armId;
      propensity = d.propensity;
      how = d.policy;
    } else {
      const active = list.filter((a) => a.status === "active");
      variant = active[Math.floor(rng() * active.length)]!.id;
      propensity = 1 / active.length;
      how = "uniform";
    }
    const reward: 0 | 1 = worldRng() < rates[variant]! ? 1 : 0;
    records.push({
      requestId: `sim-${seed}-${lead}`,
      segment,
      variantId: variant,
      policy: how,
      propensity,
      reward,
      context: contexts.get(segment)!,
      rates,
    });
    pending.push({ segment, variant, reward });
    if (lead % batchSize === 0) flush();
    if (o.onProgress && lead % 10_000 === 0) o.onProgress(lead, o.leads);
  }
  return records;
}
