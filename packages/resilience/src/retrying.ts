// Bounded retries with jittered backoff that honour a server's Retry-After.
//
// Not cockatiel's RetryPolicy: its wait between attempts cannot be cut short by an
// AbortSignal (and the next attempt starts even after an abort), so a 30 s Retry-After
// would hold a service that is shutting down. The loop is small enough to own.
import { type Backoff, backoffDelay } from "./backoff.ts";
import { DEFAULT_MAX_RETRY_AFTER_MS } from "./retry-after.ts";
import { sleep } from "./sleep.ts";

/**
 * An error may say how long the server asked us to wait (parsed from Retry-After);
 * `retrying` then waits exactly that instead of its own backoff.
 */
export type RetryAfterHint = { retryAfterMs?: number };

export type RetryContext = {
  /** 1 for the first call, 2 for the first retry, … */
  attempt: number;
  /** Aborted when the caller's signal aborts. */
  signal: AbortSignal;
};

export type RetryEvent = {
  /** The attempt that just failed. */
  attempt: number;
  /** How long we wait before the next one. */
  delayMs: number;
  error: unknown;
};

export type RetryOptions = {
  /** Calls in total, the first included (1 = no retry). */
  attempts: number;
  /** Default: 100 ms doubling up to 5 s, full jitter. */
  backoff?: Backoff;
  /** Which failures are worth another attempt. Default: all of them. */
  retryable?: (error: unknown) => boolean;
  /**
   * A server asking us to wait longer than this is not retried: the error is thrown at
   * once (the caller falls back) rather than calling back before the server allows it.
   * Default 60 s.
   */
  maxRetryAfterMs?: number;
  /** Stops further attempts and cuts a wait short; the promise rejects with its reason. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log the failure. */
  onRetry?: (event: RetryEvent) => void;
};

export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

/** The Retry-After an error carries, when it carries a usable one. */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("retryAfterMs" in error)) return undefined;
  const ms = (error as RetryAfterHint).retryAfterMs;
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/**
 * Calls `fn` until it resolves, the error is not retryable, or `attempts` are spent;
 * rethrows the last error. Between attempts it waits the error's `retryAfterMs` when
 * present, else `backoffDelay(attempt, backoff)`.
 */
export async function retrying<T>(
  fn: (context: RetryContext) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const retryable = options.retryable ?? (() => true);
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const signal = options.signal ?? new AbortController().signal;
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      return await fn({ attempt, signal });
    } catch (error) {
      if (attempt >= options.attempts || signal.aborted || !retryable(error)) throw error;
      const asked = retryAfterOf(error);
      if (asked !== undefined && asked > maxRetryAfterMs) throw error;
      const delayMs = asked ?? backoffDelay(attempt, backoff);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs, signal);
    }
  }
}
