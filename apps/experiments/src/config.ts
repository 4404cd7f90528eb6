/** The experiment engine's configuration: the only place that reads process.env. */

import {
  DEFAULT_CHANGE,
  DEFAULT_GUARDRAILS,
  DEFAULT_POOLED_PRIOR,
  DEFAULT_SUPPRESSION,
} from "@pw/bandit";
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { commandAgeWithinInbox, OperatorCommandVars, operatorCommandSettings } from "@pw/events";
import { z } from "zod";

const rate = z.coerce.number().min(0).max(1);

/** Operator-command age limits when unset (ADR 0009); operator.ts falls back to them too. */
export { OPERATOR_COMMAND_DEFAULTS } from "@pw/events";

export const ExperimentsConfig = ServiceBaseConfig(4300)
  .and(
    z
      .object({
        /** The outcome that counts as a conversion for the bandit. */
        EXPERIMENT_REWARD: z
          .enum(["replied", "positive_reply", "meeting_booked", "converted"])
          .default("meeting_booked"),
        /** Days after a send during which the reward outcome is credited to it. */
        EXPERIMENT_ATTRIBUTION_DAYS: z.coerce.number().min(1).max(90).default(14),
        /** First-touch sends per UTC day across all instances; the rest wait by priority. */
        EXPERIMENT_DAILY_CAPACITY: z.coerce.number().int().min(1).max(1_000_000).default(500),
        /** Hours a lead may wait for capacity before it joins the nurture track. */
        EXPERIMENT_NURTURE_AFTER_HOURS: z.coerce
          .number()
          .min(1)
          .max(24 * 90)
          .default(72),
        /** Waiting halves a lead's priority every this many hours. */
        EXPERIMENT_AGING_HALF_LIFE_HOURS: z.coerce
          .number()
          .min(1)
          .max(24 * 90)
          .default(24),
        /** Pseudo-sends the pooled prior is worth (0 = off: every segment starts from Beta(1,1)). */
        EXPERIMENT_POOLED_PRIOR_STRENGTH: z.coerce
          .number()
          .min(0)
          .max(10_000)
          .default(DEFAULT_POOLED_PRIOR.strength),
        /**
         * Change detection (ADR 0015), on by default for every campaign: when a variant's
         * recent rate departs from its long-run rate, the segment's evidence starts over
         * from recent outcomes and its suppressed variants are re-tested. The defaults are
         * `DEFAULT_CHANGE` in @pw/bandit, the values `pnpm sim` and the sweep use.
         */
        EXPERIMENT_CHANGE_DETECTION: z.stringbool().default(true),
        /** Sends of a variant its recent window spans. */
        EXPERIMENT_CHANGE_WINDOW_SENDS: z.coerce
          .number()
          .int()
          .min(50)
          .max(1_000_000)
          .default(DEFAULT_CHANGE.window),
        /** Standard errors between the recent and the long-run rate that signal a change. */
        EXPERIMENT_CHANGE_THRESHOLD: z.coerce
          .number()
          .min(2)
          .max(20)
          .default(DEFAULT_CHANGE.threshold),
        /** Recent sends a variant needs before it is tested. */
        EXPERIMENT_CHANGE_MIN_RECENT: z.coerce
          .number()
          .int()
          .min(10)
          .max(1_000_000)
          .default(DEFAULT_CHANGE.minRecent),
        /** Pseudo-observations each variant keeps when its segment starts over. */
        EXPERIMENT_CHANGE_KEEP: z.coerce
          .number()
          .min(0)
          .max(1_000_000)
          .default(DEFAULT_CHANGE.keep),
        /**
         * Optional extra forgetting: evidence half-life in days (decayed at every review).
         * Unset (the default): evidence is kept until a change is detected.
         */
        EXPERIMENT_EVIDENCE_HALF_LIFE_DAYS: z.coerce.number().positive().max(3650).optional(),
        /**
         * How many times faster than the wall clock the engine's durations pass: the
         * attribution window, the evidence half-life, nurture-after and queue ageing. 1 in
         * production; the demo sets its clock (720: 14 days of attribution in 28 minutes),
         * as dispatch's DISPATCH_CLOCK_SCALE does for cadences.
         */
        EXPERIMENT_CLOCK_SCALE: z.coerce.number().min(1).max(1_000_000).default(1),
        /**
         * Guardrail limits: an arm the evidence shows to be over one of these rates (hard
         * bounces, opt-outs, negative replies per send) is paused — tested on every such
         * outcome with a lower bound of the rate, so a pause is sure at any count (ADR 0014).
         */
        EXPERIMENT_GUARDRAIL_BOUNCE_RATE: rate.default(DEFAULT_GUARDRAILS.bounceRate),
        EXPERIMENT_GUARDRAIL_UNSUBSCRIBE_RATE: rate.default(DEFAULT_GUARDRAILS.unsubscribeRate),
        EXPERIMENT_GUARDRAIL_NEGATIVE_REPLY_RATE: rate.default(
          DEFAULT_GUARDRAILS.negativeReplyRate,
        ),
        /**
         * How sure the engine must be that a rate is over its limit before it pauses: the
         * confidence of the one-sided Wilson lower bound that must exceed the limit. Higher
         * pauses fewer variants that are under the limit, and harmful ones later.
         */
        EXPERIMENT_GUARDRAIL_CONFIDENCE: z.coerce
          .number()
          .min(0.5)
          .max(0.999)
          .default(DEFAULT_GUARDRAILS.confidence),
        /** Never pause on fewer bounces (opt-outs, negative replies) than this, however few the sends. */
        EXPERIMENT_GUARDRAIL_MIN_EVENTS: z.coerce
          .number()
          .int()
          .min(1)
          .max(1_000)
          .default(DEFAULT_GUARDRAILS.minEvents),
        /**
         * The review's backstop re-checks arms with at least this many sends (the check on
         * every outcome does not wait for it).
         */
        EXPERIMENT_GUARDRAIL_MIN_SENDS: z.coerce.number().int().min(1).default(100),
        /**
         * Sends a variant must have in a segment before it can be suppressed (P(best) below
         * the threshold for consecutive reviews). The default is @pw/bandit's
         * DEFAULT_SUPPRESSION; the demo lowers it so learning shows within minutes.
         */
        EXPERIMENT_SUPPRESSION_MIN_SENDS: z.coerce
          .number()
          .int()
          .min(10)
          .max(1_000_000)
          .default(DEFAULT_SUPPRESSION.minExposures),
        /** How often attribution windows settle, arms are reviewed and the queue drains. */
        EXPERIMENT_REVIEW_EVERY_MS: z.coerce.number().int().min(100).default(60_000),
        ...OperatorCommandVars,
        /**
         * stackAI: base, key and org set plus a flow id → that flow is used; otherwise built-ins.
         * The base URL carries the key: https only (see ALLOW_INSECURE_VENDOR_URLS).
         */
        STACKAI_BASE_URL: z.url().optional(),
        STACKAI_API_KEY: z.string().min(1).optional(),
        STACKAI_ORG_ID: z.string().min(1).optional(),
        /** The flow that rewrites the chosen variant for the lead. */
        STACKAI_REWRITE_FLOW_ID: z.string().min(1).optional(),
        /** The flow that classifies reply intent. */
        STACKAI_INTENT_FLOW_ID: z.string().min(1).optional(),
        STACKAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(3_000),
        ...AllowInsecureVendorUrls,
      })
      .superRefine(checkVendorUrls(["STACKAI_BASE_URL"]))
      .transform((e) => {
        const flow = (flowId: string | undefined) =>
          e.STACKAI_BASE_URL && e.STACKAI_API_KEY && e.STACKAI_ORG_ID && flowId
            ? {
                baseUrl: e.STACKAI_BASE_URL,
                apiKey: e.STACKAI_API_KEY,
                orgId: e.STACKAI_ORG_ID,
                flowId,
                timeoutMs: e.STACKAI_TIMEOUT_MS,
              }
            : undefined;
        return {
          reward: e.EXPERIMENT_REWARD,
          attributionDays: e.EXPERIMENT_ATTRIBUTION_DAYS,
          clockScale: e.EXPERIMENT_CLOCK_SCALE,
          capacity: {
            perDay: e.EXPERIMENT_DAILY_CAPACITY,
            nurtureAfterHours: e.EXPERIMENT_NURTURE_AFTER_HOURS,
            agingHalfLifeHours: e.EXPERIMENT_AGING_HALF_LIFE_HOURS,
          },
          pooledPriorStrength: e.EXPERIMENT_POOLED_PRIOR_STRENGTH,
          suppressionMinSends: e.EXPERIMENT_SUPPRESSION_MIN_SENDS,
          evidenceHalfLifeDays: e.EXPERIMENT_EVIDENCE_HALF_LIFE_DAYS,
          change: e.EXPERIMENT_CHANGE_DETECTION
            ? {
                window: e.EXPERIMENT_CHANGE_WINDOW_SENDS,
                threshold: e.EXPERIMENT_CHANGE_THRESHOLD,
                minRecent: e.EXPERIMENT_CHANGE_MIN_RECENT,
                keep: e.EXPERIMENT_CHANGE_KEEP,
              }
            : (false as const),
          guardrails: {
            minExposures: e.EXPERIMENT_GUARDRAIL_MIN_SENDS,
            bounceRate: e.EXPERIMENT_GUARDRAIL_BOUNCE_RATE,
            unsubscribeRate: e.EXPERIMENT_GUARDRAIL_UNSUBSCRIBE_RATE,
            negativeReplyRate: e.EXPERIMENT_GUARDRAIL_NEGATIVE_REPLY_RATE,
            confidence: e.EXPERIMENT_GUARDRAIL_CONFIDENCE,
            minEvents: e.EXPERIMENT_GUARDRAIL_MIN_EVENTS,
          },
          reviewEveryMs: e.EXPERIMENT_REVIEW_EVERY_MS,
          stackai: {
            rewrite: flow(e.STACKAI_REWRITE_FLOW_ID),
            intent: flow(e.STACKAI_INTENT_FLOW_ID),
          },
          operatorCommands: operatorCommandSettings(e),
        };
      }),
  )
  .superRefine(commandAgeWithinInbox);
export type ExperimentsConfig = z.infer<typeof ExperimentsConfig>;

/** Parses `env` (default: the process's); throws a ConfigError naming each bad variable. */
export function experimentsConfig(env: Record<string, string | undefined> = process.env) {
  return parseConfig(ExperimentsConfig, env);
}
