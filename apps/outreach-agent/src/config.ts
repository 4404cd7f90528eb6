/** The outreach agent's configuration: the only place that reads process.env. */
import { createPublicKey, type KeyObject } from "node:crypto";
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { z } from "zod";

/** Loopback literals only, as @pw/config's vendor URLs: a name that resolves there is not trusted. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === "localhost" || hostname === "[::1]" || hostname === "::1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export type SmtpSettings = {
  host: string;
  port: number;
  /** smtps:// — TLS from the first byte (usually port 465). */
  secure: boolean;
  /**
   * smtp:// to another machine: STARTTLS is required, so that the password and the mail
   * never cross a network in clear. On loopback (a relay sidecar, a test server) TLS is
   * used when offered.
   */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  /** The From header, e.g. `Acme <hello@acme.com>`. */
  from: string;
  /** The domain of our Message-IDs (`<dispatchId@domain>`), from SMTP_FROM. */
  messageIdDomain: string;
};

/** `smtp(s)://user:pass@host:port` → settings; a string names what is wrong. */
function parseSmtpUrl(text: string): Omit<SmtpSettings, "from" | "messageIdDomain"> | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be a URL: smtp://user:pass@host:587 or smtps://user:pass@host:465";
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    return `must be smtp:// (STARTTLS) or smtps:// (TLS), not ${url.protocol}//`;
  if (!url.hostname) return "has no host";
  const secure = url.protocol === "smtps:";
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port,
    secure,
    requireTLS: !secure && !isLoopbackHost(url.hostname),
    ...(user ? { auth: { user, pass } } : {}),
  };
}

/** `Name <local@domain>` or `local@domain` → the domain; undefined when there is none. */
export function senderDomain(from: string): string | undefined {
  const match = /@([A-Za-z0-9.-]+\.?[A-Za-z0-9-]*)>?\s*$/.exec(from.trim());
  return match?.[1]?.toLowerCase();
}

/** A PEM (SPKI or certificate) or a JWK JSON object → a public KeyObject. */
function parsePublicKey(text: string): KeyObject | string {
  try {
    const trimmed = text.trim();
    if (trimmed.startsWith("{")) {
      const jwk = JSON.parse(trimmed) as { kty?: string; d?: unknown };
      if (jwk.kty === "oct") return "is a symmetric JWK; put a shared secret in AGENT_JWT_SECRET";
      if (jwk.d !== undefined) return "is a private JWK; give the public half only";
      return createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
    }
    // A PEM pasted into a one-line variable often has literal \n.
    const pem = trimmed.replace(/\\n/g, "\n");
    if (pem.includes("PRIVATE KEY")) return "is a private key; give the public key (SPKI PEM) only";
    return createPublicKey(pem);
  } catch (error) {
    return `is neither a PEM public key nor a JWK: ${(error as Error).message}`;
  }
}

/** The From of simulated e-mails when no SMTP_FROM is set (`.invalid`: it cannot be real). */
export const SIMULATED_FROM = "Pipeline Whisperer <outreach@simulated.invalid>";

const UNCONFIGURED = ["simulate", "fail"] as const;

export const AgentConfig = ServiceBaseConfig(4500).and(
  z
    .object({
      /**
       * The SMTP server e-mails go through: `smtps://user:pass@host:465` (TLS) or
       * `smtp://user:pass@host:587` (STARTTLS, required unless the host is loopback).
       * Unset: e-mail is simulated or refused (AGENT_UNCONFIGURED_CHANNELS).
       */
      SMTP_URL: z.string().min(1).optional(),
      /** The From of every e-mail, `Name <address@domain>`; its domain names our Message-IDs. */
      SMTP_FROM: z.string().min(3).max(320).optional(),
      /** A Slack incoming webhook (`https://hooks.slack.com/services/…`: the URL is the secret). */
      SLACK_WEBHOOK_URL: z.url().optional(),
      /** The product's endpoint for in-app messages: POST JSON, 2xx, optionally `{id}`. */
      IN_APP_WEBHOOK_URL: z.url().optional(),
      /** Sent as `Authorization: Bearer …` to IN_APP_WEBHOOK_URL when set. */
      IN_APP_WEBHOOK_TOKEN: z.string().min(1).optional(),
      /**
       * A channel without a configured driver: `simulate` stores the message in the simulated
       * inbox (the embedded demo), `fail` answers `failed` "channel X not configured" (the
       * deployed default: never pretend to send). `linkedin` has no live driver.
       */
      AGENT_UNCONFIGURED_CHANNELS: z.enum(UNCONFIGURED).default("fail"),
      /** Per call to a channel: connect, greeting and each SMTP step; a whole webhook POST. */
      AGENT_CHANNEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
      /**
       * A key still `sending` after this long was interrupted mid-send (a crash): it is then
       * answered `failed`, never sent again — a duplicate is worse than a lost touch.
       */
      AGENT_SENDING_STALE_MS: z.coerce.number().int().min(1_000).default(600_000),
      /**
       * `required` (default): every request needs a bearer JWT verified with one of the keys
       * below. `none` is for the in-process agent of the embedded demo only; over HTTP it
       * lets anyone who reaches the port send mail in your name.
       */
      AGENT_AUTH: z.enum(["required", "none"]).default("required"),
      /** JWKS of the token issuer (Truefoundry's jwt_auth integration, any OIDC IdP). */
      AGENT_JWT_JWKS_URL: z.url().optional(),
      /** One verification key: a PEM public key (SPKI) or a public JWK as JSON. */
      AGENT_JWT_PUBLIC_KEY: z
        .string()
        .min(1)
        .optional()
        .transform((text, ctx) => {
          if (text === undefined) return undefined;
          const key = parsePublicKey(text);
          if (typeof key === "string") {
            ctx.addIssue({ code: "custom", message: key });
            return z.NEVER;
          }
          return key;
        }),
      /** An HS256 secret shared with dispatch (TRUEFOUNDRY_AGENT_JWT_SECRET there). */
      AGENT_JWT_SECRET: z.string().min(32, "at least 32 characters").optional(),
      /** When set, a token's `iss` must equal it. */
      AGENT_JWT_ISSUER: z.string().min(1).optional(),
      /** When set, a token's `aud` must contain it (recommended with a shared IdP). */
      AGENT_JWT_AUDIENCE: z.string().min(1).optional(),
      ...AllowInsecureVendorUrls,
    })
    .superRefine(checkVendorUrls(["SLACK_WEBHOOK_URL", "IN_APP_WEBHOOK_URL", "AGENT_JWT_JWKS_URL"]))
    .superRefine((e, ctx) => {
      const issue = (variable: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [variable], message });
      if (e.SMTP_URL !== undefined) {
        const smtp = parseSmtpUrl(e.SMTP_URL);
        if (typeof smtp === "string") issue("SMTP_URL", smtp);
        if (e.SMTP_FROM === undefined)
          issue("SMTP_FROM", "required with SMTP_URL (e.g. Acme <hello@acme.com>)");
      }
      if (e.SMTP_FROM !== undefined && !senderDomain(e.SMTP_FROM))
        issue("SMTP_FROM", "must contain an address with a domain, e.g. Acme <hello@acme.com>");
      if (e.IN_APP_WEBHOOK_TOKEN !== undefined && e.IN_APP_WEBHOOK_URL === undefined)
        issue("IN_APP_WEBHOOK_TOKEN", "only used with IN_APP_WEBHOOK_URL; set it, or unset this");
    })
    .transform((e) => {
      const smtp = e.SMTP_URL === undefined ? undefined : parseSmtpUrl(e.SMTP_URL);
      const from = e.SMTP_FROM ?? SIMULATED_FROM;
      return {
        channels: {
          smtp:
            smtp && typeof smtp !== "string"
              ? { ...smtp, from, messageIdDomain: senderDomain(from) ?? "localhost" }
              : undefined,
          slack: e.SLACK_WEBHOOK_URL ? { webhookUrl: e.SLACK_WEBHOOK_URL } : undefined,
          inApp: e.IN_APP_WEBHOOK_URL
            ? { url: e.IN_APP_WEBHOOK_URL, token: e.IN_APP_WEBHOOK_TOKEN }
            : undefined,
          unconfigured: e.AGENT_UNCONFIGURED_CHANNELS,
          timeoutMs: e.AGENT_CHANNEL_TIMEOUT_MS,
          /** What the simulated inbox renders e-mails from (the real sender when configured). */
          simulatedFrom: {
            from,
            messageIdDomain: senderDomain(from) ?? "localhost",
          },
        },
        sendingStaleMs: e.AGENT_SENDING_STALE_MS,
        auth: {
          mode: e.AGENT_AUTH,
          jwksUrl: e.AGENT_JWT_JWKS_URL,
          publicKey: e.AGENT_JWT_PUBLIC_KEY,
          secret: e.AGENT_JWT_SECRET,
          issuer: e.AGENT_JWT_ISSUER,
          audience: e.AGENT_JWT_AUDIENCE,
        },
      };
    }),
);
export type AgentConfig = z.infer<typeof AgentConfig>;
export type ChannelSettings = AgentConfig["channels"];
export type AuthSettings = AgentConfig["auth"];

/** Parses `env` (default: the process's); throws a ConfigError naming each bad variable. */
export function agentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  return parseConfig(AgentConfig, env);
}
