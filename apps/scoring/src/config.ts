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
      })),
  )
  .superRefine(commandAgeWithinInbox);

export type ScoringConfig = z.infer<typeof ScoringConfig>;

/**
 * Parses `env` (default: the process's); throws a ConfigError naming each bad variable.
 * Tests and the demo pass their own variables.
 */
export function scoringConfig(env: Record<string, string | undefined> = process.env) {
  return parseConfig(ScoringConfig, env);
}
