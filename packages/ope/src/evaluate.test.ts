// Statistical tests on simulated logs, where each candidate's true value is known.
// Seeded, with enough seeds that wrong weights fail by a wide margin, not by chance.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { World } from "@pw/simulator";
import { describe, expect, it } from "vitest";
import { parseCandidate } from "./candidates.ts";
import type { LoggedDecision } from "./decision-log.ts";
import { evaluate } from "./evaluate.ts";
import { defaultSimOptions, simulateLogs } from "./simulate.ts";

const world = World.parse(
  JSON.parse(
    await readFile(join(import.meta.dirname, "../../../data/worlds/five-variants.json"), "utf8"),
  ),
);
const candidates = (...specs: string[]) =>
  specs.map((spec) => ({ spec, candidate: parseCandidate(spec) }));
const covers = (ci: [number, number], x: number) => ci[0] <= x && x <= ci[1];

/** Share of seeds whose IPS interval covers the truth, per candidate. */
function coverage(
  specs: string[],
  seeds: number,
  logs: (seed: number) => LoggedDecision[],
): Record<string, { ips: number; snips: number }> {
  const hits = Object.fromEntries(specs.map((s) => [s, { ips: 0, snips: 0 }]));
  for (let seed = 1; seed <= seeds; seed++) {
    const e = evaluate(logs(seed), candidates(...specs), { seed });
    for (const c of e.candidates) {
      if (covers(c.ipsCi, c.true!)) hits[c.spec]!.ips += 1 / seeds;
      if (covers(c.snipsCi!, c.true!)) hits[c.spec]!.snips += 1 / seeds;
    }
  }
  return hits;
}

describe("off-policy evaluation on a world with known rates", () => {
  const uniformLogs = (seed: number) =>
    simulateLogs(world, { leads: 5_000, seed, logging: "uniform" });

  it("estimates the best and the worst variant from uniformly logged decisions", () => {
    const e = evaluate(uniformLogs(1), candidates("fixed:case_study", "fixed:pain_point"));
    const [best, worst] = e.candidates;
    expect(best!.true).toBeCloseTo(0.05, 12);
    expect(worst!.true).toBeCloseTo(0.02, 12);
    for (const c of e.candidates) {
      expect(covers(c.ipsCi, c.true!), c.spec).toBe(true);
      // Uniform over five variants: weights 5 on a fifth of the decisions.
      expect(c.maxWeight).toBeCloseTo(5, 12);
      expect(c.ess / e.records).toBeCloseTo(0.2, 1);
    }
    expect(best!.ips).toBeGreaterThan(worst!.ipsCi[1]);
  });

  it("covers the truth with its 95% interval in most of 40 seeds, and not with wrong propensities", () => {
    const specs = ["fixed:case_study", "fixed:pain_point"];
    const right = coverage(specs, 40, uniformLogs);
    // Logging propensity 1 instead of the true 1/5: the weights are five times too small
    // (SNIPS, a ratio, does not see a constant factor: see the Thompson test below).
    const wrong = coverage(specs, 40, (seed) =>
      uniformLogs(seed).map((r) => ({ ...r, propensity: 1 })),
    );
    for (const s of specs) {
      expect(right[s]!.ips, s).toBeGreaterThanOrEqual(0.85);
      expect(right[s]!.snips, s).toBeGreaterThanOrEqual(0.85);
      expect(wrong[s]!.ips, s).toBeLessThanOrEqual(0.1);
    }
  });

  it("gives the logging policy exactly its average reward", () => {
    const logs = uniformLogs(3);
    const e = evaluate(logs, candidates("uniform"));
    const average = logs.reduce((s, r) => s + r.reward, 0) / logs.length;
    expect(e.candidates[0]!.snips).toBe(average);
    expect(e.candidates[0]!.ips).toBeCloseTo(average, 12);
    expect(e.candidates[0]!.ess).toBeCloseTo(logs.length, 6);
  });

  it("on the engine's own Thompson logs: the replay matches, and other candidates are covered", () => {
    const thompsonLogs = (seed: number) =>
      simulateLogs(world, { leads: 10_000, seed, ...defaultSimOptions() });
    const logs = thompsonLogs(1);
    const replay = evaluate(logs, candidates("thompson")).candidates[0]!;
    const average = logs.reduce((s, r) => s + r.reward, 0) / logs.length;
    // Recomputed probabilities agree with the logged ones up to Monte Carlo noise.
    expect(replay.ess / logs.length).toBeGreaterThan(0.97);
    expect(Math.abs(replay.snips! - average)).toBeLessThan(0.001);
    const hits = coverage(
      ["uniform", "fixed:case_study", "thompson:floor=0.05", "threshold:0.2"],
      20,
      thompsonLogs,
    );
    for (const [spec, h] of Object.entries(hits)) expect(h.ips, spec).toBeGreaterThanOrEqual(0.8);
    // SNIPS forgives a constant error in the propensities, not one that varies by arm:
    // logs that claim to be uniform when Thompson favoured the best variant.
    const claimedUniform = coverage(["uniform"], 20, (seed) =>
      thompsonLogs(seed).map((r) => ({ ...r, propensity: 1 / 5 })),
    );
    expect(claimedUniform.uniform!.snips).toBeLessThanOrEqual(0.1);
    expect(claimedUniform.uniform!.ips).toBeLessThanOrEqual(0.1);
  });
});
