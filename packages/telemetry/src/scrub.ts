/**
 * The last line of defence before anything leaves for Sentry: no e-mail address, name,
 * phone number, message body or reply text in any event, span, log or metric. Lead ids,
 * event ids, segments, variants and scores are what the telemetry is about and stay.
 *
 * Two rules, applied to every string and every key of every object, however deep:
 * a value under a personal key (`email`, `firstName`, `replyText`, `lead.email`,
 * `body`…) becomes "[redacted]"; an e-mail address anywhere in any string becomes
 * "[email]". The instrumentation is written not to put such data there in the first
 * place; this catches what a library, an error message or a future change lets through.
 */

export const REDACTED = "[redacted]";
export const EMAIL_MASK = "[email]";

/** Local part @ domain with a dot: what an address looks like in text, URLs and headers too. */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/**
 * Keys whose values are personal, compared on the last segment of a dotted or snake-case
 * key, case-insensitively: `lead.email`, `first_name`, `replyText`, `user.ip_address`.
 */
const PERSONAL =
  /(^|[._-])(e-?mails?|first_?name|last_?name|full_?name|contact_?name|display_?name|user_?name|phones?|phone_?numbers?|reply_?text|body|html|text|ip_?address|address|cookies?|authorization)$/i;

export function isPersonalKey(key: string): boolean {
  return PERSONAL.test(key.replace(/([a-z])([A-Z])/g, "$1_$2"));
}

export function scrubString(text: string): string {
  return text.replace(EMAIL, EMAIL_MASK);
}

/** A deep copy with personal values redacted and addresses masked (cycles cut). */
export function scrub<T>(value: T, seen = new WeakSet<object>()): T {
  if (typeof value === "string") return scrubString(value) as T;
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]" as T;
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, seen)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = isPersonalKey(key) && v !== null && v !== undefined ? REDACTED : scrub(v, seen);
  }
  return out as T;
}

/**
 * A Sentry event without its `user` (beyond an id) and with every other part scrubbed.
 * Structural keys Sentry itself defines are kept as they are (their values scrubbed).
 */
export function scrubEvent<E extends { user?: unknown }>(event: E): E {
  const { user, ...rest } = event;
  const id =
    user && typeof user === "object" && "id" in user ? (user as { id?: unknown }).id : undefined;
  return { ...scrub(rest), ...(id !== undefined ? { user: { id } } : {}) } as E;
}

/**
 * The privacy half of every Sentry init (the services' and the dashboard's): the SDK
 * collects nothing about the person, and every event, span, log, metric and breadcrumb
 * passes the scrubber last. Spread into `Sentry.init`; one definition, so a new hook or
 * setting reaches every process. (Arrows: the SDK passes a hint second, which `scrub` must
 * not take for its `seen` set.)
 */
export const PRIVACY_OPTIONS = {
  dataCollection: {
    userInfo: false,
    cookies: false,
    httpHeaders: false,
    httpBodies: [] as never[],
    urlQueryParams: false,
  },
  beforeSend: <E extends { user?: unknown }>(event: E) => scrubEvent(event),
  beforeSendSpan: <S>(span: S) => scrub(span),
  beforeSendLog: <L>(log: L) => scrub(log),
  beforeSendMetric: <M>(metric: M) => scrub(metric),
  beforeBreadcrumb: <B>(breadcrumb: B) => scrub(breadcrumb),
};
