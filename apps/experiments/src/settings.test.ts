// The engine's settings: defaults come from the config schema alone, the parsed
// config fits as it is, and the rules derived from it (pooled priors, no
// suppression for campaigns that forget).
import { type ArmState, DEFAULT_CHANGE, DEFAULT_POLICY, DEFAULT_SUPPRESSION } from "@pw/bandit";
import { parseConfig } from "@pw/config";
import { describe, expect, it } from "vitest";
import { ExperimentsConfig, experimentsConfig } from "./config.ts";
import { engineContext } from "./context.ts";
import {
  defaultEngineSettings,
  type EngineSettings,
  pooledPriorsFor,
  suppressionFor,
} from "./settings.ts";

const arm = (id: string, successes: number, trials: number): ArmState => ({
  id,
  successes,
  failures: trials - successes,
  exposures: trials,
  status: "active",
});

describe("engine settings", () => {
  it("defaults are the config schema's, and the parsed config is accepted whole", () => {
    const config = parseConfig(ExperimentsConfig, {});
    const settings: EngineSettings = config;
    expect(defaultEngineSettings()).toEqual({
      reward: settings.reward,
      attributionDays: settings.attributionDays,
      clockScale: 1,
      capacity: settings.capacity,
      pooledPriorStrength: settings.pooledPriorStrength,
      suppressionMinSends: DEFAULT_SUPPRESSION.minExposures,
      evidenceHalfLifeDays: undefined,
      change: settings.change,
      guardrails: settings.guardrails,
    });
    expect(defaultEngineSettings().pooledPriorStrength).toBeGreaterThan(0);
    // EXPERIMENT_SUPPRESSION_MIN_SENDS sets when a variant may be suppressed (the demo: 25).
    const demo = parseConfig(ExperimentsConfig, { EXPERIMENT_SUPPRESSION_MIN_SENDS: "25" });
    const ctx = engineContext({ db: undefined as never, settings: demo });
    expect(ctx.suppression).toMatchObject({ minExposures: 25 });
    // EXPERIMENT_CLOCK_SCALE: the demo's clock shortens the attribution window (14 days).
    const fast = parseConfig(ExperimentsConfig, { EXPERIMENT_CLOCK_SCALE: "720" });
    expect(engineContext({ db: undefined as never, settings: fast }).windowMs).toBe(28 * 60_000);
    expect(engineContext({ db: undefined as never, settings: demo }).windowMs).toBe(
      14 * 86_400_000,
    );
    expect(() => parseConfig(ExperimentsConfig, { EXPERIMENT_CLOCK_SCALE: "0.5" })).toThrow(
      /EXPERIMENT_CLOCK_SCALE/,
    );
    expect(() => parseConfig(ExperimentsConfig, { EXPERIMENT_SUPPRESSION_MIN_SENDS: "3" })).toThrow(
      /EXPERIMENT_SUPPRESSION_MIN_SENDS/,
    );
    // A fresh object each call: a test's override cannot leak into the next.
    defaultEngineSettings().capacity.perDay = 1;
    expect(defaultEngineSettings().capacity.perDay).toBe(config.capacity.perDay);
  });

  it("pooled priors follow the strength: a thin segment borrows from the others, 0 turns it off", () => {
    const segments = new Map([
      ["big", [arm("a", 90, 1_000), arm("b", 10, 1_000)]],
      ["thin", [arm("a", 0, 0), arm("b", 0, 0)]],
    ]);
    const on = pooledPriorsFor({ pooledPriorStrength: 50 }, DEFAULT_POLICY.prior)(segments);
    const thinA = on.get("thin")!.find((x) => x.id === "a")!;
    expect(thinA.prior!.alpha + thinA.prior!.beta).toBeCloseTo(52);
    expect(thinA.prior!.alpha).toBeCloseTo(1 + 50 * 0.09);
    const off = pooledPriorsFor({ pooledPriorStrength: 0 }, DEFAULT_POLICY.prior)(segments);
    expect(off).toBe(segments);
  });

  it("suppression stays on with change detection (which re-tests); without it, forgetting turns it off", () => {
    const change = DEFAULT_CHANGE;
    expect(suppressionFor({ evidenceHalfLifeDays: 7, change: false })).toBe(false);
    expect(suppressionFor({ evidenceHalfLifeDays: 7, change })).toEqual(DEFAULT_SUPPRESSION);
    expect(suppressionFor({ evidenceHalfLifeDays: undefined, change: false })).toEqual(
      DEFAULT_SUPPRESSION,
    );
    const strict = { minExposures: 10, threshold: 0.1, consecutiveChecks: 1 };
    expect(suppressionFor({ change }, strict)).toBe(strict);
    expect(suppressionFor({ evidenceHalfLifeDays: 30, change: false }, strict)).toBe(false);
  });

  it("the service's change-detection defaults are the policy's (one source)", () => {
    expect(defaultEngineSettings().change).toEqual(DEFAULT_CHANGE);
    expect(experimentsConfig({ EXPERIMENT_CHANGE_DETECTION: "false" }).change).toBe(false);
  });
});
