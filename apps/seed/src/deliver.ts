/**
 * Delivers one signed webhook until ingest gives a final answer: 202 (accepted), 200 with
 * `duplicate: true` (already there), or a refusal (4xx, a 500). Transient failures — 408,
 * 429, 502/503/504 (waiting what Retry-After asks), connection refused or reset, timeouts —
 * are retried with backoff until the run's deadline; each attempt is signed afresh (the
 * signature's timestamp must be within ingest's five minutes) under the same webhook-id,
 * so an attempt that did land is acknowledged as a duplicate, never published twice.
 */
import { signed } from "@pw/ingest/sign-request";
import { Agent, request } from "undici";

export type Delivery =
  | { kind: "accepted"; eventId?: string; retries: number }
  | { kind: "duplicate"; eventId?: string; retries: number }
  | { kind: "rejected"; status: number; code: string; message: string; retries: number }
  | { kind: "undelivered"; reason: string; retries: number };

export type DeliverContext = {
  ingestUrl: string;
  secret: string;
  dispatcher: Agent;
  /** Epoch ms after which nothing is retried (an attempt in flight is cut at it too). */
  deadline: number;
  /** Longest one attempt may take. */
  attemptTimeoutMs: number;
  /**
   * Stops retrying (a wait is cut short, no further attempt): reason "deadline" at the
   * deadline, else an interruption. An attempt in flight is not cut — its answer is
   * awaited (it is bounded by the attempt timeout and the deadline), so a stop never
   * leaves a webhook whose fate is unknown.
   */
  signal?: AbortSignal;
  /** Told each time an attempt failed transiently and another will follow. */
  onRetry?: (reason: string) => void;
};

/** Without a Retry-After: full jitter under 250 ms, 500 ms, 1 s … capped at 10 s. */
const BACKOFF = { initialMs: 250, maxMs: 10_000 };
/** A Retry-After longer than this is waited this long (then asked again). */
const MAX_RETRY_AFTER_MS = 60_000;
const TRANSIENT_STATUS = new Set([408, 425, 429, 502, 503, 504]);
/** Errors after which the request may have reached ingest (a retry may come back a duplicate). */
const AMBIGUOUS = new Set([
  "ECONNRESET",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_CLOSED",
  "UND_ERR_ABORTED",
  "AbortError",
  "TimeoutError",
]);
/** Errors before anything was sent. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export function createDispatcher(connections: number): Agent {
  return new Agent({
    connections,
    keepAliveTimeout: 10_000,
    connect: { timeout: 10_000 },
  });
}

/** A Retry-After header (seconds or an HTTP date) in ms, or undefined. */
export function retryAfterMs(header: string | string[] | undefined, nowMs = Date.now()) {
  const v = Array.isArray(header) ? header[0] : header;
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** An error body `{ error: { code, message, issues } }` as one line; anything else as text. */
export function describeError(status: number, text: string): { code: string; message: string } {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error as
      | { code?: unknown; message?: unknown; issues?: { path: string; message: string }[] }
      | undefined;
    if (e && typeof e.message === "string") {
      const issues = (e.issues ?? []).map((i) => `${i.path}: ${i.message}`).join("; ");
      return {
        code: typeof e.code === "string" ? e.code : `http_${status}`,
        message: issues && !e.message.includes(issues) ? `${e.message} (${issues})` : e.message,
      };
    }
  } catch {
    // not JSON: the text itself
  }
  return { code: `http_${status}`, message: text.trim().slice(0, 200) || `HTTP ${status}` };
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === "string") return e.code;
  if (typeof e?.cause?.code === "string") return e.cause.code;
  return typeof e?.name === "string" ? e.name : "Error";
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

type Attempt = { final: Delivery } | { retry: string; waitMs?: number; ambiguous: boolean };

async function attempt(
  ctx: DeliverContext,
  route: string,
  webhookId: string,
  body: string,
  retries: number,
): Promise<Attempt> {
  const req = signed(route, body, { secret: ctx.secret, id: webhookId });
  const timeoutMs = Math.max(1, Math.min(ctx.attemptTimeoutMs, ctx.deadline - Date.now()));
  let status: number;
  let text: string;
  let headers: Record<string, string | string[] | undefined>;
  try {
    // Appended, not resolved: an ingest behind a path prefix keeps its prefix.
    const res = await request(`${ctx.ingestUrl.replace(/\/+$/, "")}${route}`, {
      method: "POST",
      headers: req.headers,
      body,
      dispatcher: ctx.dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.statusCode;
    headers = res.headers;
    text = await res.body.text();
  } catch (error) {
    const code = errorCode(error);
    if (NOT_SENT.has(code) || AMBIGUOUS.has(code))
      return { retry: describeNetworkError(code, ctx.ingestUrl), ambiguous: !NOT_SENT.has(code) };
    return {
      final: {
        kind: "undelivered",
        reason: `${describeNetworkError(code, ctx.ingestUrl)}: ${(error as Error).message}`,
        retries,
      },
    };
  }
  if (status === 202 || (status >= 200 && status < 300 && status !== 200))
    return { final: { kind: "accepted", eventId: eventIdOf(text), retries } };
  if (status === 200) {
    const duplicate = (safeJson(text) as { duplicate?: unknown } | undefined)?.duplicate === true;
    return {
      final: duplicate
        ? { kind: "duplicate", eventId: eventIdOf(text), retries }
        : { kind: "accepted", eventId: eventIdOf(text), retries },
    };
  }
  const { code, message } = describeError(status, text);
  if (TRANSIENT_STATUS.has(status))
    return {
      retry: `${status} ${code}`,
      waitMs: retryAfterMs(headers["retry-after"]),
      ambiguous: status === 504 || status === 502,
    };
  return { final: { kind: "rejected", status, code, message, retries } };
}

const deadlineReason = (last?: string) =>
  `deadline reached while retrying${last ? ` (last: ${last})` : ""}`;

/** Why a stopped delivery did not finish: the deadline (the stop's reason), or an interruption. */
function stopped(ctx: DeliverContext, last?: string): string {
  return ctx.signal?.reason === "deadline" ? deadlineReason(last) : "interrupted";
}

function describeNetworkError(code: string, url: string): string {
  const host = new URL(url).host;
  if (code === "ECONNREFUSED") return `connection refused by ${host}`;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "UND_ERR_SOCKET")
    return `connection reset by ${host}`;
  if (code === "ENOTFOUND") return `host not found: ${host}`;
  if (/TIMEOUT|ABORT/i.test(code)) return `timed out talking to ${host}`;
  return `${code} talking to ${host}`;
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
function eventIdOf(text: string): string | undefined {
  const id = (safeJson(text) as { eventId?: unknown } | undefined)?.eventId;
  return typeof id === "string" ? id : undefined;
}

/**
 * Posts `body` to `route` until a final answer or the deadline. A duplicate answered after
 * an attempt whose fate was unknown (reset, timeout) is this run's own delivery landing
 * twice, so it counts as accepted.
 */
export async function deliver(
  ctx: DeliverContext,
  route: string,
  webhookId: string,
  body: string,
): Promise<Delivery> {
  let retries = 0;
  let ambiguous = false;
  let last: string | undefined;
  for (;;) {
    if (ctx.signal?.aborted) return { kind: "undelivered", reason: stopped(ctx, last), retries };
    const a = await attempt(ctx, route, webhookId, body, retries);
    if ("final" in a) {
      if (a.final.kind === "duplicate" && ambiguous)
        return { kind: "accepted", eventId: a.final.eventId, retries };
      return a.final;
    }
    ambiguous ||= a.ambiguous;
    last = a.retry;
    const backoff = Math.random() * Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** retries);
    const waitMs = Math.min(a.waitMs ?? backoff, MAX_RETRY_AFTER_MS);
    if (Date.now() + waitMs >= ctx.deadline)
      return { kind: "undelivered", reason: deadlineReason(a.retry), retries };
    retries++;
    ctx.onRetry?.(a.retry);
    await sleep(waitMs, ctx.signal);
  }
}
