import { describe, expect, it } from "vitest";
import { estimate, type LoggedOutcome, Z95 } from "./estimators.ts";

// Four decisions worked by hand: weights w = π/μ are 2, 2, 0, 1.
const table: LoggedOutcome[] = [
  { action: "a", propensity: 0.5, target: 1, reward: 1 },
  { action: "b", propensity: 0.25, target: 0.5, reward: 0 },
  { action: "a", propensity: 0.5, target: 0, reward: 1 },
  { action: "c", propensity: 0.25, target: 0.25, reward: 1 },
];

describe("estimators", () => {
  it("computes IPS, SNIPS, their intervals, ESS and the logged average on a hand-worked table", () => {
    const e = estimate(table);
    expect(e.n).toBe(4);
    // IPS terms r·w = 2, 0, 0, 1: mean 0.75, sample variance 2.75/3.
    expect(e.ips).toBeCloseTo(0.75, 12);
    const ipsSe = Math.sqrt(2.75 / 3 / 4);
    expect(e.ipsCi[0]).toBeCloseTo(0.75 - Z95 * ipsSe, 12);
    expect(e.ipsCi[1]).toBeCloseTo(0.75 + Z95 * ipsSe, 12);
    // SNIPS = Σ r·w / Σ w = 3/5; delta method se = √(Σ w²(r − 0.6)²) / Σw = √2.24 / 5.
    expect(e.snips).toBeCloseTo(0.6, 12);
    const snipsSe = Math.sqrt(4 * 0.16 + 4 * 0.36 + 0 + 1 * 0.16) / 5;
    expect(e.snipsCi![0]).toBeCloseTo(0.6 - Z95 * snipsSe, 12);
    expect(e.snipsCi![1]).toBeCloseTo(0.6 + Z95 * snipsSe, 12);
    expect(e.ess).toBeCloseTo(25 / 9, 12); // (Σw)² / Σw² = 5² / 9
    expect(e.maxWeight).toBe(2);
    expect(e.logged.average).toBe(0.75);
    expect(e.logged.ci[1] - e.logged.ci[0]).toBeCloseTo(2 * Z95 * 0.25, 12);
  });

  it("gives the logging policy itself (π = μ) exactly its average reward, with full ESS", () => {
    const logged = table.map((r) => ({ ...r, target: r.propensity }));
    const e = estimate(logged);
    expect(e.snips).toBe(e.logged.average);
    expect(e.ess).toBeCloseTo(4, 12);
    expect(e.maxWeight).toBe(1);
  });

  it("has no SNIPS when the candidate never takes a logged action", () => {
    const e = estimate(table.map((r) => ({ ...r, target: 0 })));
    expect(e).toMatchObject({ ips: 0, snips: null, snipsCi: null, ess: 0, maxWeight: 0 });
  });

  it("refuses input it cannot evaluate, saying which record and why", () => {
    expect(() => estimate([])).toThrow("no records");
    const bad = (patch: Partial<LoggedOutcome>) => [table[0]!, { ...table[1]!, ...patch }];
    expect(() => estimate(bad({ propensity: 0 }))).toThrow(
      "record 1 (action b): propensity 0 is not in (0, 1]",
    );
    expect(() => estimate(bad({ propensity: 1.2 }))).toThrow("propensity 1.2 is not in (0, 1]");
    expect(() => estimate(bad({ propensity: Number.NaN }))).toThrow("propensity NaN");
    expect(() => estimate(bad({ target: -0.1 }))).toThrow("candidate probability -0.1");
    expect(() => estimate(bad({ reward: 0.5 }))).toThrow("reward 0.5 is not 0 or 1");
  });
});
