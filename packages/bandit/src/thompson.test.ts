// Statistical tests with seeded randomness and enough trials that a wrong
// implementation fails by a wide margin, not by chance.
import { describe, expect, it } from "vitest";
import { beta, seededRng } from "./random.ts";
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  DEFAULT_SUPPRESSION,
  DRIFT_HALF_LIFE_LEADS,
  decay,
  discountFactor,
  probabilityBest,
  update,
} from "./thompson.ts";

const arm = (id: string, s: number, f: number): ArmState => ({
  id,
  successes: s,
  failures: f,
  exposures: s + f,
  status: "active",
});

describe("sampling", () => {
  it("draws Beta(a, b) with the right mean and variance", () => {
    const rng = seededRng(42);
    for (const [a, b] of [
      [2, 5],
      [0.5, 0.5],
      [30, 970],
    ] as const) {
      const n = 40_000;
      const xs = Array.from({ length: n }, () => beta(a, b, rng));
      const mean = xs.reduce((s, x) => s + x, 0) / n;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
      const m = a / (a + b);
      const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expect(Math.abs(mean - m)).toBeLessThan(5 * Math.sqrt(v / n));
      expect(Math.abs(variance / v - 1)).toBeLessThan(0.05);
    }
  });
});

describe("Thompson policy", () => {
  it("is uniform during burn-in, with propensity 1/k", () => {
    const rng = seededRng(1);
    const arms = [arm("a", 0, 10), arm("b", 5, 5), arm("c", 1, 2)];
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const d = choose(arms, { ...DEFAULT_POLICY, burnIn: 50 }, rng);
      expect(d).toMatchObject({ policy: "burn_in", propensity: 1 / 3 });
      counts.set(d.armId, (counts.get(d.armId) ?? 0) + 1);
    }
    for (const c of counts.values()) expect(Math.abs(c / 30_000 - 1 / 3)).toBeLessThan(0.015);
  });

  it("sends most traffic to a clearly better arm, keeps the floor, and its propensities match its behaviour", () => {
    const rng = seededRng(7);
    const arms = [arm("good", 60, 940), arm("bad", 20, 980), arm("worse", 10, 990)];
    const o = { ...DEFAULT_POLICY, burnIn: 10, floor: 0.02, draws: 4_000 };
    const pBest = probabilityBest(arms, o, rng);
    expect(pBest.get("good")).toBeGreaterThan(0.99);
    const counts = new Map<string, number>();
    const props = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const d = choose(arms, o, rng, pBest);
      counts.set(d.armId, (counts.get(d.armId) ?? 0) + 1);
      props.set(d.armId, d.propensity);
    }
    expect(counts.get("good")! / n).toBeGreaterThan(0.9);
    // Floor: each arm keeps about floor share (here 2%) of traffic.
    expect(counts.get("worse")! / n).toBeGreaterThan(0.012);
    for (const [id, c] of counts) expect(Math.abs(c / n - props.get(id)!)).toBeLessThan(0.01);
  });

  it("suppresses an arm that stays unlikely to be best, never the leader, and discounting forgets", () => {
    const arms = [arm("leader", 50, 950), arm("loser", 10, 990), arm("young", 1, 9)];
    const pBest = new Map([
      ["leader", 0.97],
      ["loser", 0.01],
      ["young", 0.02],
    ]);
    const o = { minExposures: 500, threshold: 0.05, consecutiveChecks: 2 };
    const once = applySuppression(arms, pBest, o);
    expect(once.suppressed).toEqual([]);
    const twice = applySuppression(once.arms, pBest, o);
    expect(twice.suppressed).toEqual(["loser"]); // young has too few exposures; leader never
    expect(twice.arms.find((a) => a.id === "loser")?.status).toBe("suppressed");
    expect(() =>
      choose(
        twice.arms.map((a) => ({ ...a, status: "paused" as const })),
        DEFAULT_POLICY,
        seededRng(1),
      ),
    ).toThrow("no active variant");
    const decayed = update(arm("x", 100, 100), 1, 0.5);
    expect(decayed).toMatchObject({ successes: 51, failures: 50, exposures: 201 });
  });

  it("with sharpen, splits non-floor traffic by P(best)^sharpen and reports that exact probability", () => {
    const arms = [arm("a", 30, 970), arm("b", 25, 975), arm("c", 20, 980)];
    const pBest = new Map([
      ["a", 0.6],
      ["b", 0.3],
      ["c", 0.1],
    ]);
    const n = 40_000;
    const share = (sharpen: number) => {
      const rng = seededRng(11);
      const o = { ...DEFAULT_POLICY, burnIn: 0, floor: 0.01, sharpen };
      const counts = new Map<string, number>();
      const props = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const d = choose(arms, o, rng, pBest);
        counts.set(d.armId, (counts.get(d.armId) ?? 0) + 1);
        props.set(d.armId, d.propensity);
      }
      // Propensities are the real frequencies, and they sum to 1.
      for (const [id, c] of counts) expect(Math.abs(c / n - props.get(id)!)).toBeLessThan(0.008);
      expect([...props.values()].reduce((s, p) => s + p, 0)).toBeCloseTo(1, 9);
      return props;
    };
    const plain = share(1);
    expect(plain.get("a")).toBeCloseTo(0.01 + 0.97 * 0.6, 9);
    const squared = share(2);
    expect(squared.get("a")).toBeCloseTo(0.01 + 0.97 * (0.36 / 0.46), 9);
    expect(squared.get("c")).toBeCloseTo(0.01 + 0.97 * (0.01 / 0.46), 9);
    expect(DEFAULT_POLICY.sharpen).toBe(2);
  });

  it("uses an arm's own prior instead of the policy's", () => {
    const same = [arm("x", 5, 95), arm("y", 5, 95)];
    const even = probabilityBest(same, { ...DEFAULT_POLICY, draws: 4_000 }, seededRng(5));
    expect(Math.abs(even.get("x")! - 0.5)).toBeLessThan(0.05);
    const informed = [{ ...same[0]!, prior: { alpha: 30, beta: 270 } }, same[1]!];
    const tilted = probabilityBest(informed, { ...DEFAULT_POLICY, draws: 4_000 }, seededRng(5));
    expect(tilted.get("x")).toBeGreaterThan(0.85);
  });

  it("forgets at the drift half-life, keeping the count of sends", () => {
    expect(discountFactor(DRIFT_HALF_LIFE_LEADS)).toBeCloseTo(0.5, 12);
    expect(discountFactor(500)).toBeCloseTo(0.95, 3);
    expect(decay(arm("x", 40, 60), 0.5)).toMatchObject({
      successes: 20,
      failures: 30,
      exposures: 100,
    });
    // The recommended suppression never acts on a P(best) that any draw gave a win.
    expect(DEFAULT_SUPPRESSION.threshold).toBeLessThanOrEqual(1 / DEFAULT_POLICY.draws);
  });
});
