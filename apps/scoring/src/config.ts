/** Scoring's configuration: the only place that reads process.env. */
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { CommandPublicKeysVar } from "@pw/events";
import { z } from "zod";

export const ScoringConfig = ServiceBaseConfig(4200)
  .and(
    z
      .object({
        /**
         * Public keys that verify operator commands (ADR 0009) — here, model rollbacks:
         * `keyId:<base64 SPKI Ed25519 key>`, comma-separated while keys rotate. Unset: every
         * command is refused.
         */
        OPERATOR_COMMAND_PUBLIC_KEYS: CommandPublicKeysVar,
        /** Older commands are refused; at most INBOX_RETENTION_DAYS (replays). */
        OPERATOR_COMMAND_MAX_AGE_MS: z.coerce.number().int().min(1_000).default(86_400_000),
        /** How far ahead of this clock a command may be dated (clock skew). */
        OPERATOR_COMMAND_MAX_SKEW_MS: z.coerce
          .number()
          .int()
          .min(0)
          .max(3_600_000)
          .default(300_000),
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
        operatorCommands: {
          keys: e.OPERATOR_COMMAND_PUBLIC_KEYS,
          maxAgeMs: e.OPERATOR_COMMAND_MAX_AGE_MS,
          maxSkewMs: e.OPERATOR_COMMAND_MAX_SKEW_MS,
        },
      })),
  )
  .superRefine((c, ctx) => {
    if (!c.operatorCommands || !c.housekeeping) return;
    if (c.operatorCommands.maxAgeMs > c.housekeeping.inboxRetentionMs)
      ctx.addIssue({
        code: "custom",
        path: ["OPERATOR_COMMAND_MAX_AGE_MS"],
        message: `must not exceed INBOX_RETENTION_DAYS (${c.housekeeping.inboxRetentionMs} ms): a command older than the inbox's memory could be replayed`,
      });
  });

export type ScoringConfig = z.infer<typeof ScoringConfig>;

/**
 * Parses `env` (default: the process's); throws a ConfigError naming each bad variable.
 * Tests and the demo pass their own variables.
 */
export function scoringConfig(env: Record<string, string | undefined> = process.env) {
  return parseConfig(ScoringConfig, env);
}
