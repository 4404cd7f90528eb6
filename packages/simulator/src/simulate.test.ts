// The issue's targets, checked with the engine's real policy and its recommended
// settings (`defaultOptions`, the @pw/bandit defaults) on the worlds in data/worlds.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compare, defaultOptions, simulate } from "./simulate.ts";
import { World } from "./world.ts";

const load = async (name: string) =>
  World.parse(
    JSON.parse(await readFile(join(import.meta.dirname, "../../../data/worlds", name), "utf8")),
  );

describe("simulator", () => {
  it("on the five-variant world meets the targets across seeds: regret ≤ 4%, ≥ 85% on the best by lead 10,000, losers ≤ 15%", async () => {
    const world = await load("five-variants.json");
    // Twenty seeds, not a chosen one: at 10,000 leads 5% vs 4% is about two standard
    // errors, so a seed can miss (over 400 seeds all three hold in 86% of runs, see
    // packages/simulator/README.md). The typical run must meet them, and most runs must.
    const runs = Array.from({ length: 20 }, (_, i) =>
      simulate(world, "thompson", { ...defaultOptions(50_000), seed: i + 1 }),
    );
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mean = (xs: number[]) => xs.reduce((n, x) => n + x, 0) / xs.length;
    expect(mean(runs.map((r) => r.regretPct))).toBeLessThanOrEqual(4);
    expect(median(runs.map((r) => r.bestShareAt["10000"]!))).toBeGreaterThanOrEqual(85);
    expect(mean(runs.map((r) => r.loserTrafficPct))).toBeLessThanOrEqual(15);
    const allThree = runs.filter(
      (r) => r.regretPct <= 4 && r.bestShareAt["10000"]! >= 85 && r.loserTrafficPct <= 15,
    );
    expect(allThree.length).toBeGreaterThanOrEqual(14);
    for (const r of runs) expect(r.suppressed.map((s) => s.variant)).not.toContain("case_study");
    // And against the baselines on the same leads.
    const c = compare(world, { ...defaultOptions(50_000), seed: 1 });
    const t = c.policies.thompson!;
    expect(t.regretPct).toBeLessThan(c.policies.uniform!.regretPct / 5);
    expect(t.regretPct).toBeLessThan(c.policies.ab_then_ship!.regretPct);
    expect(t.bestShareAt["50000"]).toBeGreaterThan(95);
  });

  it("on the six-segment world every segment gives most of its traffic to its own best variant", async () => {
    const world = await load("six-segments.json");
    for (const seed of [1, 2, 3]) {
      const r = compare(world, { ...defaultOptions(50_000), seed });
      const t = r.policies.thompson!;
      // Five different winners over six segments (two share one): a policy that learned one
      // winner for all would fail here.
      expect(new Set(t.segments.map((s) => s.best)).size).toBe(5);
      for (const s of t.segments) {
        expect(s.top, `${s.segment} (seed ${seed})`).toBe(s.best);
        expect(s.bestSharePct, `${s.segment} (seed ${seed})`).toBeGreaterThan(50);
      }
      expect(t.regretPct).toBeLessThan(r.policies.epsilon_greedy!.regretPct);
      expect(t.regretPct).toBeLessThan(r.policies.uniform!.regretPct);
    }
  });

  it("with the pooled prior, thin segments that share a winner lose less", async () => {
    const world = await load("thin-segments.json");
    const seeds = [1, 2, 3, 4, 5, 6];
    const meanRegret = (pooled: boolean) =>
      seeds
        .map((seed) => {
          const o = { ...defaultOptions(50_000), seed };
          return simulate(world, "thompson", pooled ? o : { ...o, pooledPrior: false }).regretPct;
        })
        .reduce((s, r) => s + r, 0) / seeds.length;
    // Measured 8.9% vs 11.6% on these seeds (9.6% vs 11.1% over 100).
    expect(meanRegret(true)).toBeLessThan(meanRegret(false) - 1);
  });

  it("with the same defaults as a steady world, moves when the best variant changes half way, where ship-the-winner does not", async () => {
    const world = await load("drifting.json");
    const o = defaultOptions(50_000);
    const r = compare(world, { ...o, seed: 1 });
    // The change is detected within a few thousand leads of it (ADR 0015).
    const [change] = r.policies.thompson!.changes;
    expect(change?.atLead).toBeGreaterThan(25_000);
    expect(change?.atLead).toBeLessThan(30_000);
    expect(r.policies.thompson!.bestShareAt["50000"]).toBeGreaterThan(80);
    expect(r.policies.ab_then_ship!.bestShareAt["50000"]).toBeLessThan(5);
    expect(r.policies.thompson!.regretPct).toBeLessThan(r.policies.epsilon_greedy!.regretPct);
    expect(r.policies.thompson!.regretPct).toBeLessThan(r.policies.uniform!.regretPct);
  });

  it("rejects a world file that misses a rate, naming it", () => {
    const bad = World.safeParse({
      name: "x",
      variants: ["a", "b"],
      segments: [{ name: "s", share: 1, rates: { a: 0.1 } }],
    });
    expect(bad.error?.issues[0]?.path).toEqual(["segments", 0, "rates", "b"]);
  });
});
