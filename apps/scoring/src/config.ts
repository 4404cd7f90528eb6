/** Scoring's configuration: the only place that reads process.env. */
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { commandAgeWithinInbox, OperatorCommandVars, operatorCommandSettings } from "@pw/events";
import { z } from "zod";

export const ScoringConfig = ServiceBaseConfig(4200)
  .and(
    z
      .object({
        ...OperatorCommandVars,
        /**
         * stackAI: all four set → the flow scores leads; otherwise the built-in model does.
         * The base URL carries the key: https only (see ALLOW_INSECURE_VENDOR_URLS).
         */
        STACKAI_BASE_URL: z.url().optional(),
        STACKAI_API_KEY: z.string().min(1).optional(),
        STACKAI_ORG_ID: z.string().min(1).optional(),
        STACKAI_FLOW_ID: z.string().min(1).optional(),
        STACKAI_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
        ...AllowInsecureVendorUrls,
        /**
         * Refits (ADR 0017): once this many sends were labelled since the last refit, a
         * candidate is fitted on the recent labels and promoted only if it beats the
         * active version on the newest of them.
         */
        SCORING_REFIT_EVERY_LABELS: z.coerce.number().int().min(10).max(1_000_000).default(500),
        /** How often a replica checks whether a refit is due (seconds). */
        SCORING_REFIT_CHECK_SECONDS: z.coerce.number().min(1).max(86_400).default(30),
        /** The most recent labelled sends a refit reads (its training set and holdout). */
        SCORING_REFIT_MAX_EXAMPLES: z.coerce.number().int().min(100).max(1_000_000).default(20_000),
        /** The newest share of them kept out of training to judge the candidate on. */
        SCORING_REFIT_HOLDOUT: z.coerce.number().gt(0).lt(1).default(0.2),
        /** Pull towards the hand-set priors, in labelled sends' worth (0: none). */
        SCORING_REFIT_L2: z.coerce.number().min(0).max(1_000_000).default(2),
      })
      .superRefine(checkVendorUrls(["STACKAI_BASE_URL"]))
      .transform((e) => ({
        stackai:
          e.STACKAI_BASE_URL && e.STACKAI_API_KEY && e.STACKAI_ORG_ID && e.STACKAI_FLOW_ID
            ? {
                baseUrl: e.STACKAI_BASE_URL,
                apiKey: e.STACKAI_API_KEY,
                orgId: e.STACKAI_ORG_ID,
                flowId: e.STACKAI_FLOW_ID,
                timeoutMs: e.STACKAI_TIMEOUT_MS,
              }
            : undefined,
        operatorCommands: operatorCommandSettings(e),
        refit: {
          everyLabels: e.SCORING_REFIT_EVERY_LABELS,
          checkEveryMs: e.SCORING_REFIT_CHECK_SECONDS * 1000,
          maxExamples: e.SCORING_REFIT_MAX_EXAMPLES,
          holdoutFraction: e.SCORING_REFIT_HOLDOUT,
          l2: e.SCORING_REFIT_L2,
        },
      })),
  )
  .superRefine(commandAgeWithinInbox);

export type ScoringConfig = z.infer<typeof ScoringConfig>;
export type RefitSettings = ScoringConfig["refit"];

/**
 * Parses `env` (default: the process's); throws a ConfigError naming each bad variable.
 * Tests and the demo pass their own variables.
 */
export function scoringConfig(env: Record<string, string | undefined> = process.env) {
  return parseConfig(ScoringConfig, env);
}
