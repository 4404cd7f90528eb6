/**
 * The engine's settings, in the shape `config.ts` parses them into, and the
 * rules derived from them. Every default lives in the config schema only:
 * `defaultEngineSettings()` parses that schema with an empty environment, so
 * tests and simulations run on exactly what production runs on by default.
 */
import {
  type ArmState,
  type BetaPrior,
  DEFAULT_SUPPRESSION,
  type SuppressionOptions,
  withPooledPriors,
} from "@pw/bandit";
import { parseConfig } from "@pw/config";
import { ExperimentsConfig } from "./config.ts";

const ENGINE_KEYS = [
  "reward",
  "attributionDays",
  "clockScale",
  "capacity",
  "pooledPriorStrength",
  "suppressionMinSends",
  "evidenceHalfLifeDays",
  "change",
  "guardrails",
] as const;

type FromConfig = Pick<ExperimentsConfig, (typeof ENGINE_KEYS)[number]>;

/**
 * The engine's part of the parsed config (the whole `ExperimentsConfig` fits):
 * reward, attribution window, send capacity, pooled-prior strength, evidence
 * half-life and guardrails. See config.ts for what each means.
 */
export type EngineSettings = Omit<FromConfig, "evidenceHalfLifeDays" | "clockScale"> & {
  evidenceHalfLifeDays?: number | undefined;
  /** Durations pass this many times faster than the wall clock (the demo); default 1. */
  clockScale?: number | undefined;
};
export type Reward = EngineSettings["reward"];
export type Guardrails = EngineSettings["guardrails"];
export type CapacitySettings = EngineSettings["capacity"];

/** The config schema's defaults for the engine's settings (a fresh object each call). */
export function defaultEngineSettings(): EngineSettings {
  const config = parseConfig(ExperimentsConfig, {});
  return Object.fromEntries(ENGINE_KEYS.map((k) => [k, config[k]])) as EngineSettings;
}

type Arms = Map<string, ArmState[]>;

/**
 * Per-segment priors from every segment's evidence, so a thin segment starts from
 * what the whole has learned; a strength of 0 leaves the policy's prior on every arm.
 */
export function pooledPriorsFor(
  settings: Pick<EngineSettings, "pooledPriorStrength">,
  base: BetaPrior,
): (bySegment: Arms) => Arms {
  const strength = settings.pooledPriorStrength;
  if (strength <= 0) return (bySegment) => bySegment;
  return (bySegment) => withPooledPriors(bySegment, { strength, pool: "variant" }, base);
}

/**
 * Suppression is never permanent while change detection is on (a change re-tests the
 * segment's suppressed arms); without it, a campaign that forgets (an evidence half-life)
 * does not suppress — a suppressed arm could not show that it became the best.
 */
export function suppressionFor(
  settings: Pick<EngineSettings, "evidenceHalfLifeDays" | "change">,
  thresholds: SuppressionOptions = DEFAULT_SUPPRESSION,
): SuppressionOptions | false {
  return settings.evidenceHalfLifeDays && !settings.change ? false : thresholds;
}
