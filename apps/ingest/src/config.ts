/** Ingest's configuration: the only place that reads process.env. */
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  loadConfig,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { z } from "zod";

/** A comma-separated list of unsubscribe-link secrets, blanks dropped. */
const UnsubscribeSecrets = z
  .string()
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .refine(
    (list) => list.every((x) => x.length >= 16),
    "each secret must be at least 16 characters (comma-separated while rotating)",
  );

export const IngestConfig = ServiceBaseConfig(4100).and(
  z
    .object({
      /** Standard Webhooks secret(s), `whsec_<base64>`; comma-separated while rotating. */
      WEBHOOK_SECRET: z
        .string()
        .min(1, "set it to whsec_<base64> (comma-separated while rotating)")
        .transform((s) =>
          s
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean),
        )
        .refine(
          (list) => list.every((x) => /^whsec_[A-Za-z0-9+/=]{16,}$/.test(x)),
          "each secret must look like whsec_<base64>",
        ),
      /** Requests per second per client address before 429. */
      INGEST_RATE_LIMIT: z.coerce.number().int().min(1).default(2_000),
      INGEST_BODY_LIMIT: z.coerce
        .number()
        .int()
        .min(1_024)
        .max(10 * 1024 * 1024)
        .default(256 * 1024),
      /** What 503 answers tell senders to wait, in seconds. */
      INGEST_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3_600).default(5),
      /** Deepest JSON nesting accepted in a webhook body. */
      INGEST_MAX_DEPTH: z.coerce.number().int().min(2).max(256).default(32),
      /** Longest a webhook waits for the broker's acknowledgement before answering 503. */
      INGEST_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
      /** Lightfield poller: on when a key is set and webhooks are not used for Lightfield. */
      LIGHTFIELD_API_KEY: z.string().startsWith("sk_lf_", "must start with sk_lf_").optional(),
      /** Carries the API key: https only (see ALLOW_INSECURE_VENDOR_URLS). */
      LIGHTFIELD_BASE_URL: z.url().default("https://api.lightfield.app"),
      LIGHTFIELD_POLL_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
      LIGHTFIELD_WEBHOOKS: z.enum(["on", "off"]).default("on"),
      /**
       * The secret(s) dispatch signs one-click unsubscribe links with (HMAC-SHA256, at least
       * 16 characters each); comma-separated while rotating — the new one first at dispatch,
       * the old one kept here until its mails are old. Unset: `/unsubscribe/*` answers 503.
       */
      UNSUBSCRIBE_SECRETS: UnsubscribeSecrets.optional(),
      /**
       * One secret, taken verbatim (dispatch's variable of the same name); verified beside
       * UNSUBSCRIBE_SECRETS when both are set.
       */
      UNSUBSCRIBE_SECRET: z.string().min(16, "at least 16 characters").optional(),
      ...AllowInsecureVendorUrls,
    })
    .superRefine(checkVendorUrls(["LIGHTFIELD_BASE_URL"]))
    .transform((e) => ({
      webhookSecrets: e.WEBHOOK_SECRET,
      /** Empty: one-click unsubscribe is not configured. */
      unsubscribeSecrets: [
        ...new Set([
          ...(e.UNSUBSCRIBE_SECRETS ?? []),
          ...(e.UNSUBSCRIBE_SECRET ? [e.UNSUBSCRIBE_SECRET] : []),
        ]),
      ],
      webhooks: {
        rateLimitPerSecond: e.INGEST_RATE_LIMIT,
        bodyLimit: e.INGEST_BODY_LIMIT,
        retryAfterSeconds: e.INGEST_RETRY_AFTER_SECONDS,
        maxDepth: e.INGEST_MAX_DEPTH,
        publishTimeoutMs: e.INGEST_PUBLISH_TIMEOUT_MS,
      },
      lightfield: {
        apiKey: e.LIGHTFIELD_API_KEY,
        baseUrl: e.LIGHTFIELD_BASE_URL,
        pollIntervalMs: e.LIGHTFIELD_POLL_INTERVAL_MS,
        pollerEnabled: Boolean(e.LIGHTFIELD_API_KEY) && e.LIGHTFIELD_WEBHOOKS === "off",
      },
    })),
);
export type IngestConfig = z.infer<typeof IngestConfig>;

/** Parses `env` (default: the process's); throws a ConfigError naming each bad variable. */
export function ingestConfig(env: Record<string, string | undefined> = process.env) {
  return parseConfig(IngestConfig, env);
}

export function loadIngestConfig(env = process.env) {
  return loadConfig(IngestConfig, env);
}
