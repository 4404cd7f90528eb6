// OPE on decisions as the engine publishes them (P(best) and exposures per arm, the
// propensity, burn-in or not): the rebuilt state replays the logger exactly, the logger
// as a candidate earns exactly the logged rate, a fixed variant is estimated near its true
// rate, and what the event cannot support (prior, burn-in) is refused by name.
import { type ArmState, choose, DEFAULT_POLICY, probabilityBest, seededRng } from "@pw/bandit";
import { describe, expect, it } from "vitest";
import { parseCandidate } from "./candidates.ts";
import { evaluatePublished, type PublishedDecision } from "./published.ts";

const RATES: Record<string, number> = { a: 0.04, b: 0.12, c: 0.07 };

/** The engine's loop in small: P(best) over the active arms, `choose`, batched updates. */
function publishedLog(n: number, seed: number): PublishedDecision[] {
  const rng = seededRng(seed);
  const policy = { ...DEFAULT_POLICY, draws: 400 };
  let arms: ArmState[] = Object.keys(RATES).map((id) => ({
    id,
    successes: 0,
    failures: 0,
    exposures: 0,
    status: "active",
  }));
  const out: PublishedDecision[] = [];
  let pending: { id: string; reward: 0 | 1 }[] = [];
  for (let i = 0; i < n; i++) {
    const pBest = probabilityBest(arms, policy, rng);
    const d = choose(arms, policy, rng, pBest);
    const reward = rng() < RATES[d.armId]! ? 1 : 0;
    out.push({
      requestId: `r${i}`,
      variantId: d.armId,
      policy: d.policy,
      propensity: d.propensity,
      arms: arms.map((a) => ({ variantId: a.id, pBest: pBest.get(a.id)!, exposures: a.exposures })),
      reward,
    });
    pending.push({ id: d.armId, reward });
    if (pending.length === 50) {
      arms = arms.map((a) => {
        const mine = pending.filter((p) => p.id === a.id);
        const s = mine.filter((p) => p.reward === 1).length;
        return {
          ...a,
          successes: a.successes + s,
          failures: a.failures + mine.length - s,
          exposures: a.exposures + mine.length,
        };
      });
      pending = [];
    }
  }
  return out;
}

describe("OPE on published decisions", () => {
  const log = publishedLog(3_000, 7);

  it("rebuilds each state well enough to replay the logger exactly", () => {
    expect(log.some((d) => d.policy === "burn_in")).toBe(true);
    expect(log.some((d) => d.policy === "thompson")).toBe(true);
    const e = evaluatePublished(log, parseCandidate("thompson"));
    expect(e.replayError).toBeLessThan(1e-9);
    expect(e.warnings).toEqual([]);
    // The logger as its own candidate: every weight 1, the estimate is the logged rate.
    expect(e.ess).toBeCloseTo(e.n, 6);
    expect(e.snips).toBeCloseTo(e.logged.average, 12);
  });

  it("estimates a fixed variant near its true rate, and a uniform policy near the mean rate", () => {
    const best = evaluatePublished(log, parseCandidate("fixed:b"));
    expect(best.snipsCi![0]).toBeLessThan(RATES.b!);
    expect(best.snipsCi![1]).toBeGreaterThan(RATES.b!);
    const uniform = evaluatePublished(log, parseCandidate("uniform"));
    const mean = (RATES.a! + RATES.b! + RATES.c!) / 3;
    expect(uniform.snipsCi![0]).toBeLessThan(mean);
    expect(uniform.snipsCi![1]).toBeGreaterThan(mean);
    // Uniform gives the rarely chosen arms the weight the logger did not: fewer effective decisions.
    expect(uniform.ess).toBeLessThan(uniform.n);
  });

  it("refuses what the published state cannot support, naming the option", () => {
    expect(() => evaluatePublished(log, parseCandidate("thompson:prior=2/60"))).toThrow(/^prior: /);
    expect(() => evaluatePublished(log, parseCandidate("threshold:0.1,burnIn=10"))).toThrow(
      /^burnIn: /,
    );
    expect(() => evaluatePublished(log, parseCandidate("fixed:zzz"))).toThrow(/^variant: .*"zzz"/);
  });

  it("says when the logged propensities do not come from the settings it assumes", () => {
    const skewed = log.map((d) =>
      d.policy === "thompson" ? { ...d, propensity: d.propensity * 0.8 } : d,
    );
    expect(evaluatePublished(skewed, parseCandidate("thompson")).warnings.join(" ")).toMatch(
      /misses the logged propensities/,
    );
  });
});
