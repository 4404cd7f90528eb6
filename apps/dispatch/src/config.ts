/** Dispatch's configuration: the only place that reads process.env. */
import {
  AllowInsecureVendorUrls,
  checkVendorUrls,
  parseConfig,
  ServiceBaseConfig,
} from "@pw/config";
import { OperatorCommandVars, operatorCommandSettings } from "@pw/events";
import { type AgentConfig, agentConfig } from "@pw/outreach-agent";
import { z } from "zod";

const CHANNELS = ["email", "linkedin", "slack", "in_app"] as const;
type ChannelName = (typeof CHANNELS)[number];

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** `20:00-08:00` → minutes of the day [start, end); `off` → none. */
const quietHours = (text: string, ctx: z.RefinementCtx) => {
  if (text === "off") return undefined;
  const [from, to, extra] = text.split("-");
  const a = from ? HHMM.exec(from) : null;
  const b = to ? HHMM.exec(to) : null;
  if (!a || !b || extra !== undefined || from === to) {
    ctx.addIssue({ code: "custom", message: "must be HH:MM-HH:MM (e.g. 20:00-08:00) or off" });
    return z.NEVER;
  }
  return {
    startMin: Number(a[1]) * 60 + Number(a[2]),
    endMin: Number(b[1]) * 60 + Number(b[2]),
  } as { startMin: number; endMin: number } | undefined;
};

const DEFAULT_CHANNEL_CAPS: Record<ChannelName, number> = {
  email: 5_000,
  linkedin: 100,
  slack: 2_000,
  in_app: 20_000,
};

/** `email:2000,slack:500` over the defaults. */
const channelCaps = (text: string, ctx: z.RefinementCtx) => {
  const caps = { ...DEFAULT_CHANNEL_CAPS };
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value] = part.split(":");
    const n = Number(value);
    if (!CHANNELS.includes(name as ChannelName) || !Number.isInteger(n) || n < 0) {
      ctx.addIssue({
        code: "custom",
        message: `"${part}": each entry is <${CHANNELS.join("|")}>:<sends per day>`,
      });
      return z.NEVER;
    }
    caps[name as ChannelName] = n;
  }
  return caps;
};

export const DispatchConfig = ServiceBaseConfig(4400).and(
  z
    .object({
      /** Quiet hours in the lead's own time zone: sends due then wait for the end. */
      DISPATCH_QUIET_HOURS: z.string().default("20:00-08:00").transform(quietHours),
      /** Days with no sends at all, in the lead's time zone (e.g. `sat,sun`). */
      DISPATCH_QUIET_DAYS: z
        .string()
        .default("")
        .transform((text, ctx) => {
          const days = text
            .split(",")
            .map((d) => d.trim().toLowerCase())
            .filter(Boolean);
          const bad = days.find((d) => !DAYS.includes(d as (typeof DAYS)[number]));
          if (bad) {
            ctx.addIssue({ code: "custom", message: `"${bad}" is not one of ${DAYS.join(",")}` });
            return z.NEVER;
          }
          return days.map((d) => DAYS.indexOf(d as (typeof DAYS)[number]));
        }),
      /** The zone of a lead whose time zone is unknown. */
      DISPATCH_DEFAULT_TIME_ZONE: z
        .string()
        .default("UTC")
        .refine(validZone, "must be an IANA time zone, e.g. Europe/Berlin"),
      /** At most one touch per lead in this many hours (first touches and follow-ups). */
      DISPATCH_LEAD_MIN_GAP_HOURS: z.coerce
        .number()
        .min(0)
        .max(24 * 30)
        .default(24),
      /** E-mails per recipient domain per hour (deliverability); 0 = no cap. */
      DISPATCH_DOMAIN_PER_HOUR: z.coerce.number().int().min(0).default(100),
      /** Sends per channel per UTC day, `email:5000,slack:2000,…` over the defaults. */
      DISPATCH_CHANNEL_DAILY_CAPS: z.string().default("").transform(channelCaps),
      /** Nurture-track sends per UTC day across all leads. */
      DISPATCH_NURTURE_PER_DAY: z.coerce.number().int().min(0).default(200),
      /** Days between two nurture touches of one lead. */
      DISPATCH_NURTURE_MIN_GAP_DAYS: z.coerce.number().min(0).max(365).default(7),
      /** How long a claimed send is one instance's before another may take it over. */
      DISPATCH_SEND_LEASE_MS: z.coerce.number().int().min(500).default(60_000),
      /** How often due timers are looked for (a new request is looked at at once). */
      DISPATCH_POLL_MS: z.coerce.number().int().min(10).default(500),
      /** Sends claimed per round, and sent at once within it. */
      DISPATCH_BATCH: z.coerce.number().int().min(1).max(5_000).default(500),
      DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
      /** Send rounds one instance runs at once (their claims never overlap). */
      DISPATCH_ROUNDS: z.coerce.number().int().min(1).max(16).default(2),
      /** Transient failures of one send before it is `failed` with the last reason. */
      DISPATCH_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
      DISPATCH_RETRY_BASE_MS: z.coerce.number().int().min(1).default(2_000),
      DISPATCH_RETRY_MAX_MS: z.coerce.number().int().min(1).default(600_000),
      /**
       * The clock dispatch plans with runs this many times faster than the wall clock
       * (from the moment it starts): the demo runs days of cadence in minutes.
       */
      DISPATCH_CLOCK_SCALE: z.coerce.number().min(1).max(1_000_000).default(1),
      /** HMAC secret of one-click unsubscribe links; ingest verifies with the same one. */
      UNSUBSCRIBE_SECRET: z
        .string({
          error: "required: the HMAC secret of one-click unsubscribe links (share it with ingest)",
        })
        .min(16, "at least 16 characters"),
      /** Where ingest answers `/unsubscribe/<token>` (its public URL). */
      UNSUBSCRIBE_BASE_URL: z.url().default("http://127.0.0.1:4100"),
      /** The mailto half of List-Unsubscribe. */
      UNSUBSCRIBE_MAILTO: z.email().optional(),
      /** The sender's postal address: every e-mail's footer carries it. */
      SENDER_POSTAL_ADDRESS: z.string().min(5).max(500).optional(),
      UNSUBSCRIBE_FOOTER_TEXT: z
        .string()
        .min(1)
        .max(500)
        .default("Not interested? Unsubscribe with one click and we will not write again:"),
      /** The outreach agent on Truefoundry; unset: the same agent code runs in-process. */
      TRUEFOUNDRY_AGENT_URL: z.url().optional(),
      /** A static bearer token for the agent (or let dispatch mint HS256 tokens). */
      TRUEFOUNDRY_AGENT_TOKEN: z.string().min(1).optional(),
      TRUEFOUNDRY_AGENT_JWT_SECRET: z.string().min(32, "at least 32 characters").optional(),
      TRUEFOUNDRY_AGENT_JWT_ISSUER: z.string().min(1).optional(),
      TRUEFOUNDRY_AGENT_JWT_AUDIENCE: z.string().min(1).optional(),
      TRUEFOUNDRY_AGENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
      /** Lightfield write-back after each send (needs notes:create / tasks:create, contacts:read). */
      LIGHTFIELD_API_KEY: z.string().startsWith("sk_lf_", "must start with sk_lf_").optional(),
      LIGHTFIELD_BASE_URL: z.url().default("https://api.lightfield.app"),
      LIGHTFIELD_WRITEBACK: z.enum(["note", "task", "off"]).default("note"),
      /** The member a write-back task is assigned to (tasks require one). */
      LIGHTFIELD_TASK_ASSIGNEE: z.string().min(1).optional(),
      LIGHTFIELD_WRITEBACK_EVERY_MS: z.coerce.number().int().min(10).default(1_000),
      /** Public keys that verify operator commands (ADR 0009); unset: all refused. */
      ...OperatorCommandVars,
      NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
      ...AllowInsecureVendorUrls,
    })
    .superRefine(checkVendorUrls(["TRUEFOUNDRY_AGENT_URL", "LIGHTFIELD_BASE_URL"]))
    .superRefine((e, ctx) => {
      const issue = (variable: string, message: string) =>
        ctx.addIssue({ code: "custom", path: [variable], message });
      if (e.NODE_ENV === "production" && !e.SENDER_POSTAL_ADDRESS)
        issue(
          "SENDER_POSTAL_ADDRESS",
          "required in production: bulk e-mail must carry the sender's postal address",
        );
      if (e.LIGHTFIELD_API_KEY && e.LIGHTFIELD_WRITEBACK === "task" && !e.LIGHTFIELD_TASK_ASSIGNEE)
        issue(
          "LIGHTFIELD_TASK_ASSIGNEE",
          "required with LIGHTFIELD_WRITEBACK=task (tasks need an assignee)",
        );
      if (e.TRUEFOUNDRY_AGENT_URL && !e.TRUEFOUNDRY_AGENT_TOKEN && !e.TRUEFOUNDRY_AGENT_JWT_SECRET)
        issue(
          "TRUEFOUNDRY_AGENT_TOKEN",
          "the agent verifies a bearer JWT: set TRUEFOUNDRY_AGENT_TOKEN or TRUEFOUNDRY_AGENT_JWT_SECRET",
        );
      if (e.DISPATCH_RETRY_MAX_MS < e.DISPATCH_RETRY_BASE_MS)
        issue("DISPATCH_RETRY_MAX_MS", "must be at least DISPATCH_RETRY_BASE_MS");
    })
    .transform((e) => ({
      policy: {
        quietHours: e.DISPATCH_QUIET_HOURS,
        quietDays: e.DISPATCH_QUIET_DAYS,
        defaultTimeZone: e.DISPATCH_DEFAULT_TIME_ZONE,
        leadMinGapMs: e.DISPATCH_LEAD_MIN_GAP_HOURS * 3_600_000,
        domainPerHour: e.DISPATCH_DOMAIN_PER_HOUR,
        channelPerDay: e.DISPATCH_CHANNEL_DAILY_CAPS,
        nurturePerDay: e.DISPATCH_NURTURE_PER_DAY,
        nurtureMinGapMs: e.DISPATCH_NURTURE_MIN_GAP_DAYS * 86_400_000,
      },
      sending: {
        leaseMs: e.DISPATCH_SEND_LEASE_MS,
        pollMs: e.DISPATCH_POLL_MS,
        batch: e.DISPATCH_BATCH,
        concurrency: e.DISPATCH_CONCURRENCY,
        rounds: e.DISPATCH_ROUNDS,
        maxAttempts: e.DISPATCH_MAX_ATTEMPTS,
        retry: { baseMs: e.DISPATCH_RETRY_BASE_MS, maxMs: e.DISPATCH_RETRY_MAX_MS },
      },
      clockScale: e.DISPATCH_CLOCK_SCALE,
      compliance: {
        secret: e.UNSUBSCRIBE_SECRET,
        baseUrl: e.UNSUBSCRIBE_BASE_URL.replace(/\/+$/, ""),
        mailto: e.UNSUBSCRIBE_MAILTO,
        postalAddress: e.SENDER_POSTAL_ADDRESS ?? "Pipeline Whisperer (set SENDER_POSTAL_ADDRESS)",
        footerText: e.UNSUBSCRIBE_FOOTER_TEXT,
      },
      agent: e.TRUEFOUNDRY_AGENT_URL
        ? {
            url: e.TRUEFOUNDRY_AGENT_URL.replace(/\/+$/, ""),
            token: e.TRUEFOUNDRY_AGENT_TOKEN,
            jwtSecret: e.TRUEFOUNDRY_AGENT_JWT_SECRET,
            issuer: e.TRUEFOUNDRY_AGENT_JWT_ISSUER,
            audience: e.TRUEFOUNDRY_AGENT_JWT_AUDIENCE,
            timeoutMs: e.TRUEFOUNDRY_AGENT_TIMEOUT_MS,
          }
        : undefined,
      lightfield:
        e.LIGHTFIELD_API_KEY && e.LIGHTFIELD_WRITEBACK !== "off"
          ? {
              apiKey: e.LIGHTFIELD_API_KEY,
              baseUrl: e.LIGHTFIELD_BASE_URL,
              kind: e.LIGHTFIELD_WRITEBACK,
              assignee: e.LIGHTFIELD_TASK_ASSIGNEE,
              everyMs: e.LIGHTFIELD_WRITEBACK_EVERY_MS,
            }
          : undefined,
      operatorCommands: operatorCommandSettings(e),
    })),
);
export type DispatchConfig = z.infer<typeof DispatchConfig> & {
  /**
   * Without TRUEFOUNDRY_AGENT_URL the agent's code runs in-process with the channels the
   * same environment configures (SMTP_URL, SLACK_WEBHOOK_URL, IN_APP_WEBHOOK_URL); an
   * unconfigured channel goes to the simulated inbox unless AGENT_UNCONFIGURED_CHANNELS=fail.
   */
  localAgent?: Pick<AgentConfig, "channels" | "sendingStaleMs"> | undefined;
};
export type PolicySettings = DispatchConfig["policy"];

/** Parses `env` (default: the process's); throws a ConfigError naming each bad variable. */
export function dispatchConfig(
  env: Record<string, string | undefined> = process.env,
): DispatchConfig {
  const config = parseConfig(DispatchConfig, env);
  if (config.agent) return config;
  const agent = agentConfig({ AGENT_UNCONFIGURED_CHANNELS: "simulate", ...env, PORT: undefined });
  return {
    ...config,
    localAgent: { channels: agent.channels, sendingStaleMs: agent.sendingStaleMs },
  };
}
