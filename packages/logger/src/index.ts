/**
 * pino for every service: JSON by default, pretty only on a TTY. Child loggers
 * carry service / eventId / leadId / traceId. Secrets never reach the output, in
 * two layers so that a careless `log.info({ req })` or `log.error(err)` cannot leak:
 *
 * - by key, at any depth and in any case (`apiKey`, `headers.Authorization`,
 *   `config.stackai.apiKey`, message bodies): the logged object and child bindings are
 *   copied with those values censored, errors turned into plain objects first (so an
 *   error's own properties are walked too), cycles cut and depth capped;
 * - by shape, in every string of the finished line (messages, error messages and
 *   stacks, serializer output): URL credentials, `Bearer …`, `sk_lf_…`, `whsec_…`,
 *   `password=…`, JWTs and token-like query parameters.
 *
 * pino's `redact` paths cannot express "any depth" nor "any case", hence neither is used.
 */

import { sentryLogStream } from "@pw/telemetry";
import { type Logger, type LoggerOptions, pino } from "pino";

export type { Logger } from "pino";

const CENSOR = "[redacted]";
/** Deeper than this a logged object is cut: nothing legitimate nests that far. */
const MAX_DEPTH = 10;

/** Key fragments whose values are secrets (keys compared lower-case, without - and _). */
const SECRET_KEY =
  /password|passwd|secret|token|apikey|authorization|cookie|signature|privatekey|credential|sessionid/;
/** Message content is personal data: bodies are never logged. */
const CONTENT_KEYS = new Set(["body", "html", "text", "content"]);

/** The same few dozen keys come by on every line: each is judged once. */
const keyVerdicts = new Map<string, boolean>();

/** True for a key whose value is never logged (any case; `-` and `_` ignored). */
export function isSecretKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    const k = key.toLowerCase().replace(/[-_]/g, "");
    verdict = CONTENT_KEYS.has(k) || SECRET_KEY.test(k);
    if (keyVerdicts.size < 10_000) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** An error as pino's serializer writes it (type, message and stack with causes, own props). */
function errorObject(error: Error): Record<string, unknown> {
  // Null prototype: a second pass of pino's err serializer (Fastify's children) keeps `type`.
  return Object.assign(Object.create(null), pino.stdSerializers.err(error));
}

function scrub(value: unknown, depth: number, path: WeakSet<object>): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (value instanceof URL) return value.href;
  if (depth >= MAX_DEPTH) return "[too deep]";
  if (path.has(value)) return "[circular]";
  let source: object = value;
  if (value instanceof Error) source = errorObject(value);
  else if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    const json = (value as { toJSON: () => unknown }).toJSON();
    if (json === null || typeof json !== "object") return json;
    source = json;
  }
  path.add(value);
  let out: unknown;
  if (Array.isArray(source)) out = source.map((v) => scrub(v, depth + 1, path));
  else {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(source)) {
      const v = (source as Record<string, unknown>)[key];
      // Counts and flags under a secret-sounding key (`tokens: 812`, `apiKey: true`) are kept.
      const keep = v === null || v === undefined || typeof v === "number" || typeof v === "boolean";
      copy[key] = isSecretKey(key) && !keep ? CENSOR : scrub(v, depth + 1, path);
    }
    out = copy;
  }
  // Only the current path counts as a cycle: an object logged twice side by side is fine.
  path.delete(value);
  return out;
}

/** A copy of `obj` with every secret-keyed value censored, at any depth. */
export function redactObject<T extends object>(obj: T): T {
  return scrub(obj, 0, new WeakSet()) as T;
}

/**
 * Secrets by shape. Every character class excludes `"` and `\`, so run over a
 * serialised JSON line a match never leaves its string and the line stays valid JSON.
 * Each pattern is a literal anchor followed by one character-class run: linear time.
 */
const TEXT_RULES: [RegExp, string][] = [
  [/\b(Bearer)(\s+)[A-Za-z0-9+/=_.~-]+/gi, `$1$2${CENSOR}`],
  [/\b(sk_lf_|whsec_|sk_live_|sk_test_|sk-)[A-Za-z0-9+/=_.-]+/g, `$1${CENSOR}`],
  [/\/\/([^:/@\s"\\]*):([^@/\s"\\]+)@/g, `//$1:${CENSOR}@`],
  [
    /([?&](?:access_token|refresh_token|id_token|token|api_key|apikey|key|password|secret|client_secret|sig|signature)=)[^&#\s"\\]+/gi,
    `$1${CENSOR}`,
  ],
  [/\b(password|passwd|pwd)(\s*[=:]\s*)[^\s"\\;&,]+/gi, `$1$2${CENSOR}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, CENSOR],
];

/** One cheap scan first: most lines hold none of the anchors the rules start from. */
const MAYBE_SECRET = /bearer|sk[-_]|whsec_|:\/\/|[?&]|passw|pwd|eyJ/i;

/** Removes likely secrets from free text (error messages, URLs, whole log lines). */
export function redactText(text: string): string {
  if (!MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
  return out;
}

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
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => redactObject(obj),
      bindings: (bindings) => redactObject(bindings),
    },
    // Errors are already plain (and redacted) objects by the time serializers run.
    serializers: {
      err: (e: unknown) => (e instanceof Error ? redactObject({ e }).e : e),
    },
    hooks: { streamWrite: redactText },
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
  // With Sentry on, the same lines also go to Sentry's logs (info and above).
  const sentry = sentryLogStream();
  if (sentry && options.level !== "silent")
    return pino(
      options,
      pino.multistream([
        { stream: process.stdout, level: options.level as pino.Level },
        { stream: sentry, level: "info" },
      ]),
    );
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
