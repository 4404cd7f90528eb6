import { choose, DEFAULT_POLICY, probabilityBest, seededRng } from "@pw/bandit";
import { describe, expect, it } from "vitest";
import {
  type Candidate,
  candidateDistribution,
  parseCandidate,
  pBestEstimator,
} from "./candidates.ts";
import type { ContextArm, DecisionContext } from "./decision-log.ts";

const arm = (id: string, s: number, f: number, extra: Partial<ContextArm> = {}): ContextArm => ({
  id,
  successes: s,
  failures: f,
  exposures: s + f,
  status: "active",
  ...extra,
});

// Past burn-in: "good" leads, "close" is a contender, "bad" is far behind, "off" is suppressed.
const ctx: DecisionContext = {
  arms: [
    arm("good", 50, 950),
    arm("close", 45, 955),
    arm("bad", 10, 990),
    arm("off", 5, 995, { status: "suppressed" }),
  ],
  policy: { ...DEFAULT_POLICY, floor: 0.02 },
};
const active = ctx.arms.filter((a) => a.status === "active");
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const dist = (c: Candidate, context = ctx) =>
  candidateDistribution(c, context, pBestEstimator({ draws: 20_000, seed: 3 }));

describe("candidate specs", () => {
  it("parses the documented forms", () => {
    expect(parseCandidate("thompson")).toEqual({ kind: "thompson", overrides: {} });
    expect(parseCandidate("thompson:floor=0.05,prior=2/60,burnIn=50")).toEqual({
      kind: "thompson",
      overrides: { floor: 0.05, prior: { alpha: 2, beta: 60 }, burnIn: 50 },
    });
    expect(parseCandidate("threshold:0.1,floor=0.02")).toEqual({
      kind: "threshold",
      threshold: 0.1,
      overrides: { floor: 0.02 },
    });
    expect(parseCandidate("uniform")).toEqual({ kind: "uniform" });
    expect(parseCandidate("fixed:case_study")).toEqual({ kind: "fixed", variant: "case_study" });
  });

  it("rejects a bad spec naming the flag, the spec and why", () => {
    for (const [spec, why] of [
      ["thompson:floor=2", "floor=2 must be in [0, 1]"],
      ["thompson:floor=x", "floor=x is not a number"],
      ["thompson:prior=2", "prior=2 must be alpha/beta"],
      ["thompson:prior=0/5", "prior=0/5 must be alpha/beta"],
      ["thompson:burnIn=1.5", "burnIn=1.5 must be a whole number"],
      ["thompson:draws=10", "draws only sets Monte Carlo precision, not the policy: use --draws"],
      ["thompson:speed=2", 'unknown option "speed"'],
      ["thompson:sharpen=0", "sharpen=0 must be > 0"],
      ["thompson:floor", '"floor" is not key=value'],
      ["threshold", "needs a threshold"],
      ["threshold:1.5", "threshold 1.5 must be in (0, 1)"],
      ["uniform:x", "uniform takes no options"],
      ["fixed:", "needs a variant id"],
      ["greedy", 'unknown candidate "greedy"'],
    ] as const)
      expect(() => parseCandidate(spec), spec).toThrow(`--candidate ${spec}: ${why}`);
  });
});

describe("candidate action probabilities", () => {
  it("replays the engine's policy: the distribution matches how often `choose` picks each arm", () => {
    const d = dist({ kind: "thompson", overrides: {} });
    expect(sum(d)).toBeCloseTo(1, 9);
    expect(d.has("off")).toBe(false);
    const rng = seededRng(11);
    // Precise enough that `choose` follows the exact P(best), whether it samples its
    // share of P(best) or draws from the posteriors.
    const pBest = probabilityBest(active, { ...ctx.policy, draws: 20_000 }, rng);
    const counts = new Map<string, number>();
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const id = choose(ctx.arms, ctx.policy, rng, pBest).armId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, p] of d) expect(Math.abs((counts.get(id) ?? 0) / n - p), id).toBeLessThan(0.01);
  });

  it("applies option overrides: burn-in makes it uniform, a bigger floor lifts the laggard", () => {
    const young = { ...ctx, arms: ctx.arms.map((a) => ({ ...a, exposures: 50 })) };
    const burnIn = dist({ kind: "thompson", overrides: {} }, young);
    expect([...burnIn.values()]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const noBurnIn = dist({ kind: "thompson", overrides: { burnIn: 10 } }, young);
    expect(noBurnIn.get("good")!).toBeGreaterThan(0.5);
    const base = dist({ kind: "thompson", overrides: {} });
    const floored = dist({ kind: "thompson", overrides: { floor: 0.1 } });
    // floor 0.1 × 3 arms = 0.3 of the traffic spread evenly: "bad" gets at least 0.1.
    expect(base.get("bad")!).toBeLessThan(0.03);
    expect(floored.get("bad")!).toBeGreaterThanOrEqual(0.1);
  });

  it("leans harder on the leader with sharpen, logged or overridden", () => {
    const base = dist({ kind: "thompson", overrides: {} });
    const sharp = dist({ kind: "thompson", overrides: { sharpen: 3 } });
    expect(sum(sharp)).toBeCloseTo(1, 9);
    expect(sharp.get("good")!).toBeGreaterThan(base.get("good")! + 0.05);
    const logged = { ...ctx, policy: { ...ctx.policy, sharpen: 3 } };
    expect(dist({ kind: "thompson", overrides: {} }, logged)).toEqual(sharp);
  });

  it("a prior override replaces the arms' own (pooled) priors", () => {
    const pooled = {
      ...ctx,
      arms: ctx.arms.map((a) => (a.id === "bad" ? { ...a, prior: { alpha: 900, beta: 100 } } : a)),
    };
    const c: Candidate = { kind: "thompson", overrides: { prior: { alpha: 1, beta: 1 } } };
    expect(dist(c, pooled)).toEqual(dist(c, ctx));
  });

  it("threshold drops arms unlikely to be best, never the leader, and not during burn-in", () => {
    const d = dist({ kind: "threshold", threshold: 0.05, overrides: {} });
    expect(d.get("bad")).toBeUndefined();
    expect(d.get("good")! + d.get("close")!).toBeCloseTo(1, 9);
    const hopeless = dist({ kind: "threshold", threshold: 0.9, overrides: {} });
    expect(hopeless.get("good")).toBeGreaterThan(0.98); // the leader alone, minus nothing
    const young = { ...ctx, arms: ctx.arms.map((a) => ({ ...a, exposures: 50 })) };
    expect(dist({ kind: "threshold", threshold: 0.05, overrides: {} }, young).size).toBe(3);
  });

  it("uniform spreads over active arms; fixed takes its variant, or follows the logger when it is not active", () => {
    expect([...dist({ kind: "uniform" }).entries()]).toEqual([
      ["good", 1 / 3],
      ["close", 1 / 3],
      ["bad", 1 / 3],
    ]);
    expect([...dist({ kind: "fixed", variant: "close" })]).toEqual([["close", 1]]);
    expect(dist({ kind: "fixed", variant: "off" })).toEqual(
      dist({ kind: "thompson", overrides: {} }),
    );
  });

  it("estimates P(best) once per identical evidence", () => {
    const pBest = pBestEstimator({ draws: 500, seed: 1 });
    const c: Candidate = { kind: "thompson", overrides: {} };
    candidateDistribution(c, ctx, pBest);
    // More exposures (decided, not yet settled) but the same evidence: a cache hit.
    const later = { ...ctx, arms: ctx.arms.map((a) => ({ ...a, exposures: a.exposures + 7 })) };
    candidateDistribution(c, later, pBest);
    expect(pBest.size()).toBe(1);
    candidateDistribution(c, { ...ctx, arms: [arm("good", 51, 950), ...ctx.arms.slice(1)] }, pBest);
    expect(pBest.size()).toBe(2);
  });
});
