// A deadline for one call, which the call sees as an AbortSignal.
import { TimeoutStrategy, timeout } from "cockatiel";

export class TimeoutError extends Error {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
    this.name = "TimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Runs `fn` with a signal that aborts after `ms` (or when `signal` aborts) and rejects
 * with a `TimeoutError` at that moment, without waiting for `fn` to notice. An abort of
 * the caller's `signal` rejects with its reason instead. The signal is left alone when
 * `fn` settles in time, so a response body it returns can still be read.
 */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T> | T,
  ms: number,
  signal?: AbortSignal,
): Promise<T> {
  const policy = timeout(ms, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  let inner: AbortSignal | undefined;
  try {
    return await policy.execute((context) => {
      inner = context.signal;
      return fn(context.signal);
    }, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // Whatever `fn` threw once its signal aborted (e.g. undici's AbortError), the cause
    // was the deadline.
    if (inner?.aborted) throw new TimeoutError(ms);
    throw error;
  }
}
