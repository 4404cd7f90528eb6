/**
 * What the engine's parts (queue, decide, learning, review) are built from: the
 * settings resolved once into the policy, the pooled priors and the
 * suppression/decay rule, plus the clock, the randomness and the vendors.
 */
import {
  type ArmState,
  type ChangeOptions,
  DEFAULT_POLICY,
  DEFAULT_SUPPRESSION,
  type PolicyOptions,
  type Rng,
  type SuppressionOptions,
  seededRng,
} from "@pw/bandit";
import type { Db } from "@pw/db";
import { type Copy, type CopyRequest, createCopywriter } from "./copywriter.ts";
import { createIntentClassifier, type ReplyIntent } from "./intent.ts";
import { type EngineSettings, pooledPriorsFor, suppressionFor } from "./settings.ts";

/** Writes the copy of a chosen variant for a lead; never throws (falls back to the template). */
export type Copywriter = { write(req: CopyRequest): Promise<Copy> };

export type IntentClassifier = {
  classify(text: string | undefined): Promise<{ intent: ReplyIntent }>;
};

export type EngineOptions = {
  db: Db;
  /** The engine's part of the parsed config (`defaultEngineSettings()` for its defaults). */
  settings: EngineSettings;
  /** Bandit tuning outside the config (tests and simulations). */
  policy?: Partial<PolicyOptions>;
  /** Suppression thresholds; suppression is off whatever these say when evidence decays. */
  suppression?: SuppressionOptions;
  /** Default: the template (no vendor). */
  copywriter?: Copywriter;
  /** Default: the built-in reply rules (no vendor). */
  intent?: IntentClassifier;
  rng?: Rng;
  now?: () => Date;
};

export type EngineContext = {
  db: Db;
  settings: EngineSettings;
  policy: PolicyOptions;
  /** The attribution window. */
  windowMs: number;
  /** Evidence half-life; 0: evidence is kept for good. */
  halfLifeMs: number;
  suppression: SuppressionOptions | false;
  /** Change detection on each segment's arms (ADR 0015); false: off. */
  change: ChangeOptions | false;
  /** Attaches each arm's pooled prior (or leaves the policy's prior). */
  priors: (bySegment: Map<string, ArmState[]>) => Map<string, ArmState[]>;
  copywriter: Copywriter;
  intent: IntentClassifier;
  rng: Rng;
  now: () => Date;
};

export function engineContext(o: EngineOptions): EngineContext {
  const { settings } = o;
  // A day of the engine's clock in wall-clock ms (shorter under the demo's clock).
  const day = 86_400_000 / (settings.clockScale ?? 1);
  const policy: PolicyOptions = { ...DEFAULT_POLICY, draws: 400, ...o.policy };
  return {
    db: o.db,
    settings,
    policy,
    windowMs: settings.attributionDays * day,
    halfLifeMs: (settings.evidenceHalfLifeDays ?? 0) * day,
    suppression: suppressionFor(
      settings,
      o.suppression ?? {
        ...DEFAULT_SUPPRESSION,
        minExposures: settings.suppressionMinSends ?? DEFAULT_SUPPRESSION.minExposures,
      },
    ),
    change: settings.change,
    priors: pooledPriorsFor(settings, policy.prior),
    copywriter: o.copywriter ?? createCopywriter(),
    intent: o.intent ?? createIntentClassifier(),
    rng: o.rng ?? seededRng(Date.now() % 2 ** 31),
    now: o.now ?? (() => new Date()),
  };
}
