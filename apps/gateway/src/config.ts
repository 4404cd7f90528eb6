/** The gateway's configuration: the only place that reads process.env. */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { z } from "zod";
import { parsePasswordHash } from "./auth/password.ts";

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
export const USERNAME = /^[A-Za-z0-9._@-]{1,100}$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,100}$/;

export type BootstrapOperator = { username: string; role: Role; passwordHash: string };

/** `user:role:<scrypt hash>` comma-separated (hashes from `pnpm gateway:operator hash`). */
const operators = (text: string | undefined, ctx: z.RefinementCtx): BootstrapOperator[] => {
  if (!text) return [];
  const out: BootstrapOperator[] = [];
  for (const entry of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [username = "", role = "", passwordHash = "", extra] = entry.split(":");
    const problem =
      extra !== undefined || !passwordHash
        ? "each entry is <username>:<viewer|operator|admin>:<scrypt hash>"
        : !USERNAME.test(username)
          ? `"${username.slice(0, 100)}" is not a username (letters, digits, . _ @ -)`
          : !ROLES.includes(role as Role)
            ? `role of ${username} must be one of ${ROLES.join(", ")}`
            : !parsePasswordHash(passwordHash)
              ? `the hash of ${username} is not a scrypt hash from \`pnpm gateway:operator hash\` (plain passwords are never accepted)`
              : out.some((o) => o.username === username)
                ? `${username} appears twice`
                : undefined;
    if (problem) {
      ctx.addIssue({ code: "custom", message: problem });
      return z.NEVER;
    }
    out.push({ username, role: role as Role, passwordHash });
  }
  return out;
};

/** An Ed25519 private key as PEM or base64 PKCS8 DER. */
const privateKey = (text: string | undefined, ctx: z.RefinementCtx): KeyObject | undefined => {
  if (!text) return undefined;
  let key: KeyObject;
  try {
    key = text.includes("-----BEGIN")
      ? createPrivateKey(text.replace(/\\n/g, "\n"))
      : createPrivateKey({ key: Buffer.from(text, "base64"), format: "der", type: "pkcs8" });
  } catch {
    ctx.addIssue({ code: "custom", message: "not a private key (expected PEM or base64 PKCS8)" });
    return z.NEVER;
  }
  if (key.asymmetricKeyType !== "ed25519") {
    ctx.addIssue({ code: "custom", message: `is ${key.asymmetricKeyType}, not Ed25519` });
    return z.NEVER;
  }
  return key;
};

export const GatewayConfig = ServiceBaseConfig(4000).and(
  z
    .object({
      /** Accounts created (or updated) at start: `user:role:<scrypt hash>`, comma-separated. */
      GATEWAY_OPERATORS: z.string().optional().transform(operators),
      /** A session ends this long after login. */
      GATEWAY_SESSION_TTL_HOURS: z.coerce
        .number()
        .min(0.01)
        .max(24 * 30)
        .default(12),
      /** `Secure` on the session cookie (HTTPS only). Default: true in production. */
      GATEWAY_SECURE_COOKIES: z.enum(["true", "false", "1", "0"]).optional(),
      /** Signs operator commands (ADR 0009): PEM or base64 PKCS8 Ed25519. Secret. */
      OPERATOR_COMMAND_PRIVATE_KEY: z.string().optional().transform(privateKey),
      /** The key id consumers know the matching public key by (OPERATOR_COMMAND_PUBLIC_KEYS). */
      OPERATOR_COMMAND_KEY_ID: z.string().regex(KEY_ID, "letters, digits, . _ - only").optional(),
      /** Login attempts per username and client IP per minute. */
      GATEWAY_LOGIN_MAX_PER_MINUTE: z.coerce.number().int().min(1).max(1_000).default(5),
      /** How long the live stream's event log is kept (read side; resume window). */
      GATEWAY_STREAM_RETENTION_HOURS: z.coerce
        .number()
        .min(0.01)
        .max(24 * 365)
        .default(72),
      /**
       * Demo mode only (`pnpm demo` sets both): operators may trigger a lead's reply,
       * meeting, conversion or unsubscribe, posted to this ingest as a signed outcome webhook.
       */
      GATEWAY_DEMO_INGEST_URL: z.url({ protocol: /^https?$/ }).optional(),
      GATEWAY_DEMO_WEBHOOK_SECRET: z
        .string()
        .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, "must look like whsec_<base64>")
        .optional(),
      NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    })
    .superRefine((e, ctx) => {
      const hasKey = e.OPERATOR_COMMAND_PRIVATE_KEY !== undefined;
      const hasId = e.OPERATOR_COMMAND_KEY_ID !== undefined;
      if (hasKey && !hasId)
        ctx.addIssue({
          code: "custom",
          path: ["OPERATOR_COMMAND_KEY_ID"],
          message: "required with OPERATOR_COMMAND_PRIVATE_KEY",
        });
      if (hasId && !hasKey)
        ctx.addIssue({
          code: "custom",
          path: ["OPERATOR_COMMAND_PRIVATE_KEY"],
          message: "required with OPERATOR_COMMAND_KEY_ID",
        });
      if (
        (e.GATEWAY_DEMO_INGEST_URL === undefined) !==
        (e.GATEWAY_DEMO_WEBHOOK_SECRET === undefined)
      )
        ctx.addIssue({
          code: "custom",
          path: [
            e.GATEWAY_DEMO_INGEST_URL ? "GATEWAY_DEMO_WEBHOOK_SECRET" : "GATEWAY_DEMO_INGEST_URL",
          ],
          message:
            "demo outcomes need both GATEWAY_DEMO_INGEST_URL and GATEWAY_DEMO_WEBHOOK_SECRET",
        });
    })
    .transform((e) => ({
      auth: {
        operators: e.GATEWAY_OPERATORS,
        sessionTtlMs: e.GATEWAY_SESSION_TTL_HOURS * 3_600_000,
        secureCookies:
          e.GATEWAY_SECURE_COOKIES === undefined
            ? e.NODE_ENV === "production"
            : e.GATEWAY_SECURE_COOKIES === "true" || e.GATEWAY_SECURE_COOKIES === "1",
        loginMaxPerMinute: e.GATEWAY_LOGIN_MAX_PER_MINUTE,
      },
      signing:
        e.OPERATOR_COMMAND_PRIVATE_KEY && e.OPERATOR_COMMAND_KEY_ID
          ? { privateKey: e.OPERATOR_COMMAND_PRIVATE_KEY, keyId: e.OPERATOR_COMMAND_KEY_ID }
          : undefined,
      streamRetentionMs: e.GATEWAY_STREAM_RETENTION_HOURS * 3_600_000,
      demo:
        e.GATEWAY_DEMO_INGEST_URL && e.GATEWAY_DEMO_WEBHOOK_SECRET
          ? { ingestUrl: e.GATEWAY_DEMO_INGEST_URL, webhookSecret: e.GATEWAY_DEMO_WEBHOOK_SECRET }
          : undefined,
    })),
);
export type GatewayConfig = z.infer<typeof GatewayConfig>;
export type AuthSettings = GatewayConfig["auth"];
export type SigningSettings = NonNullable<GatewayConfig["signing"]>;
export type DemoSettings = NonNullable<GatewayConfig["demo"]>;

/** Parses `env` (default: the process's); throws a ConfigError naming each bad variable. */
export function gatewayConfig(
  env: Record<string, string | undefined> = process.env,
): GatewayConfig {
  return parseConfig(GatewayConfig, env);
}
