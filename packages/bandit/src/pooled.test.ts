// Pooled priors: what a thin segment borrows from the others, and that its own
// evidence wins once it has some.
import { describe, expect, it } from "vitest";
import { DEFAULT_POOLED_PRIOR, pooledPriors, withPooledPriors } from "./pooled.ts";
import { seededRng } from "./random.ts";
import {
  type ArmState,
  choose,
  DEFAULT_POLICY,
  inBurnIn,
  posterior,
  probabilityBest,
} from "./thompson.ts";

const arm = (id: string, successes: number, trials: number): ArmState => ({
  id,
  successes,
  failures: trials - successes,
  exposures: trials,
  status: "active",
});
const mean = (p: { alpha: number; beta: number }) => p.alpha / (p.alpha + p.beta);

// Two well-measured segments where "a" converts at 10% and "b" at 2%, and a thin one.
const world = (thin: ArmState[]) =>
  new Map([
    ["big-1", [arm("a", 200, 2_000), arm("b", 40, 2_000)]],
    ["big-2", [arm("a", 100, 1_000), arm("b", 20, 1_000)]],
    ["thin", thin],
  ]);

describe("pooled priors", () => {
  it("pulls a thin segment's posterior toward the variant's rate in the other segments", () => {
    const arms = withPooledPriors(world([arm("a", 0, 4), arm("b", 1, 4)]), { strength: 50 });
    const [a, b] = arms.get("thin")!;
    // Own evidence alone says a: 0/4, b: 1/4; the pooled prior says a 10%, b 2%.
    expect(mean(posterior(a!, DEFAULT_POLICY))).toBeGreaterThan(0.08);
    expect(mean(posterior(b!, DEFAULT_POLICY))).toBeLessThan(0.06);
    // The prior carries `strength` pseudo-observations (plus the base Beta(1, 1)).
    expect(a!.prior!.alpha + a!.prior!.beta).toBeCloseTo(52, 6);
    // …at the rate of "a" elsewhere (300 / 3,000 = 10%): Beta(1 + 5, 1 + 45).
    expect(mean(a!.prior!)).toBeCloseTo(6 / 52, 9);
    // Without pooling, the same evidence leaves "b" ahead.
    const flat = probabilityBest([arm("a", 0, 4), arm("b", 1, 4)], DEFAULT_POLICY, seededRng(3));
    const pooled = probabilityBest(arms.get("thin")!, DEFAULT_POLICY, seededRng(3));
    expect(flat.get("b")!).toBeGreaterThan(0.6);
    expect(pooled.get("a")!).toBeGreaterThan(0.75);
  });

  it("is overruled by a segment's own evidence", () => {
    // This segment has its own winner: "b" at 8% over 3,000 sends, "a" at 3%.
    const arms = withPooledPriors(world([arm("a", 90, 3_000), arm("b", 240, 3_000)]), {
      strength: 50,
    });
    const [a, b] = arms.get("thin")!;
    expect(Math.abs(mean(posterior(a!, DEFAULT_POLICY)) - 0.03)).toBeLessThan(0.002);
    expect(Math.abs(mean(posterior(b!, DEFAULT_POLICY)) - 0.08)).toBeLessThan(0.002);
    expect(probabilityBest(arms.get("thin")!, DEFAULT_POLICY, seededRng(1)).get("b")).toBe(1);
  });

  it("leaves a segment's own evidence out of its prior, and falls back to the base prior", () => {
    const priors = pooledPriors(world([arm("a", 0, 0), arm("b", 0, 0)]), { strength: 1_000 });
    // big-1's prior for "a" comes from big-2 (and the empty thin segment) only: 1,000 trials.
    const p = priors.get("big-1")!.get("a")!;
    expect(p.alpha + p.beta).toBeCloseTo(1_002, 6); // capped by the evidence it comes from
    expect(mean(p)).toBeCloseTo(101 / 1_002, 6);
    // One segment only, or strength 0: nothing to pool.
    const alone = pooledPriors(new Map([["only", [arm("a", 5, 50)]]]), DEFAULT_POOLED_PRIOR);
    expect(alone.get("only")!.get("a")).toEqual(DEFAULT_POLICY.prior);
    const off = pooledPriors(world([arm("a", 0, 4)]), { strength: 0 });
    expect(off.get("thin")!.get("a")).toEqual(DEFAULT_POLICY.prior);
  });

  it("counts the prior's pseudo-observations towards the burn-in", () => {
    const thin = [arm("a", 1, 60), arm("b", 1, 60)];
    const o = { ...DEFAULT_POLICY, burnIn: 100 };
    expect(inBurnIn(thin, o)).toBe(true);
    const pooled = withPooledPriors(world(thin), { strength: 50 }).get("thin")!;
    expect(inBurnIn(pooled, o)).toBe(false);
    expect(choose(pooled, o, seededRng(1)).policy).not.toBe("burn_in");
  });
});
