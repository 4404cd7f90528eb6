// The learning regression gate: the engine's default policy (`defaultOptions`, the same
// for every world) over a bank of worlds, a handful of seeds each. A change to the policy,
// its defaults, the guardrails or the simulator that costs any world its bar fails here.
// The bars are the issue-14 targets (`pnpm sim:targets` measures them over more seeds).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultOptions, type PolicyResult, simulate } from "./simulate.ts";
import { readWorldFile } from "./world.ts";

const LEADS = 50_000;
const SEEDS = [1, 2, 3, 4, 5];
const world = (file: string) =>
  readWorldFile(join(import.meta.dirname, "../../../data/worlds", file));
const run = async (file: string, o: Partial<Parameters<typeof simulate>[2]> = {}) => {
  const w = await world(file);
  return SEEDS.map((seed) => simulate(w, "thompson", { ...defaultOptions(LEADS), seed, ...o }));
};
const byVariant = (r: PolicyResult, variant: string) => r.arms.find((a) => a.variant === variant)!;

describe("learning regression gate (default policy, seeds 1–5, 50k leads)", () => {
  it("stationary close race {2, 3, 3.5, 4, 5}%: mean regret ≤ 3.5%", async () => {
    const runs = await run("five-variants.json");
    const mean = runs.reduce((n, r) => n + r.regretPct, 0) / runs.length;
    expect(mean).toBeLessThanOrEqual(3.5);
    expect(runs.flatMap((r) => r.changes)).toEqual([]); // nothing changed: no restart
  });

  it("the same race with meetings booked days after the send: mean regret ≤ 4.5%, the best never suppressed", async () => {
    const runs = await run("five-variants-delayed.json");
    const mean = runs.reduce((n, r) => n + r.regretPct, 0) / runs.length;
    expect(mean).toBeLessThanOrEqual(4.5);
    for (const r of runs) expect(r.suppressed.map((s) => s.variant)).not.toContain("case_study");
    expect(runs.flatMap((r) => r.changes)).toEqual([]);
  });

  it("six segments, one of them 5% of leads: every segment ≥ 70% on its own best at the end, in ≥ 4 of 5 seeds", async () => {
    const runs = await run("six-segments-tiny.json");
    const ok = runs.filter((r) => r.segments.every((s) => s.bestSharePct >= 70));
    expect(ok.length).toBeGreaterThanOrEqual(4);
  });

  it("drift (the best falls, the worst rises half way): ≥ 60% on the new best within 10k leads, regret ≤ ε-greedy's, every seed", async () => {
    const w = await world("drifting.json");
    const at = LEADS / 2 + 10_000;
    for (const seed of SEEDS) {
      const o = { ...defaultOptions(LEADS), seed, checkpoints: [at] };
      const thompson = simulate(w, "thompson", o);
      const greedy = simulate(w, "epsilon_greedy", o);
      expect(thompson.bestShareAt[String(at)], `seed ${seed}`).toBeGreaterThanOrEqual(60);
      expect(thompson.regretPct, `seed ${seed}`).toBeLessThanOrEqual(greedy.regretPct);
    }
  });

  it("all variants bad, one bouncing 8%: the bouncer is paused within 150 sends with its reason, every seed", async () => {
    for (const r of await run("all-bad-bouncer.json")) {
      const bouncer = byVariant(r, "case_study");
      expect(bouncer.pausedAtSends).toBeLessThanOrEqual(150);
      expect(bouncer.reason).toMatch(/hard-bounce rate at least/);
      expect(bouncer.sends).toBe(bouncer.pausedAtSends); // nothing after the pause
    }
  });

  it("the best variant's list goes bad half way (hard bounces 1% → 9%): paused within 2,000 leads of it, every seed", async () => {
    for (const r of await run("late-bouncer.json", { leads: 20_000 })) {
      const bad = byVariant(r, "case_study");
      expect(bad.pausedAtLead).toBeGreaterThan(10_000); // not before: it was healthy
      expect(bad.pausedAtLead).toBeLessThan(12_000);
      expect(bad.reason).toMatch(/in its last \d+ sends/);
    }
  });

  it("every variant bounces over the limit: the segment is reported blocked, every seed", async () => {
    for (const r of await run("all-bounce.json", { leads: 5_000 })) {
      expect(r.blocked).toHaveLength(1);
      expect(r.blocked[0]!.atLead).toBeLessThan(1_000);
      expect(r.arms.every((a) => a.pausedAtSends !== undefined)).toBe(true);
    }
  });
});
