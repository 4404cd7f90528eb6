/**
 * pino for every service: JSON by default, pretty only on a TTY. Child loggers
 * carry service / eventId / leadId / traceId. Secrets and message bodies are
 * redacted by path so that a careless `log.info({ req })` cannot leak them.
 */
import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

/** Paths censored wherever they appear (one or two levels deep). */
export const REDACT_PATHS = [
  "password",
  "secret",
  "token",
  "apiKey",
  "authorization",
  "cookie",
  "webhookSecret",
  "body",
  "html",
  "text",
  "content",
  "email.body",
  "*.password",
  "*.secret",
  "*.token",
  "*.apiKey",
  "*.authorization",
  "*.cookie",
  "*.webhookSecret",
  "*.body",
  "*.html",
  "*.content",
  'headers["authorization"]',
  'headers["cookie"]',
  'headers["webhook-signature"]',
  'req.headers["authorization"]',
  'req.headers["cookie"]',
  'req.headers["webhook-signature"]',
  'req.headers["x-api-key"]',
];

export type CreateLoggerOptions = {
  service: string;
  level?: LoggerOptions["level"];
  /** Force pretty output; default: only when stdout is a TTY. */
  pretty?: boolean;
  /** Write somewhere else (tests). */
  destination?: pino.DestinationStream;
};

export function createLogger(opts: CreateLoggerOptions): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? "info",
    base: { service: opts.service },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (opts.destination) return pino(options, opts.destination);
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.NODE_ENV !== "test");
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: "pino-pretty",
        options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" },
      },
    });
  }
  return pino(options);
}

/** A child logger for one event: every line names the event, the lead and the trace. */
export function eventLogger(
  log: Logger,
  ctx: { eventId?: string; leadId?: string; traceparent?: string },
): Logger {
  const traceId = ctx.traceparent?.split("-")[1];
  return log.child({ eventId: ctx.eventId, leadId: ctx.leadId, traceId });
}

/** Removes likely secrets from free text (error messages, URLs) before logging it. */
export function redactText(text: string): string {
  return text
    .replace(/(sk_lf_|whsec_|sk-|Bearer\s+)[A-Za-z0-9+/=_\-.]+/g, "$1[redacted]")
    .replace(/\/\/([^:/@\s]+):([^@/\s]+)@/g, "//$1:[redacted]@");
}
