// Polling until something becomes true: the one way tests wait for asynchronous effects
// (a message consumed, a row written, a broker answering).

export type WaitForOptions = {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** Pause between checks. Default 50 ms. */
  intervalMs?: number;
  /** What we are waiting for, for the timeout error ("the DLQ message"). */
  message?: string;
};

/**
 * Calls `check` (sync or async) until it returns a truthy value, and returns that value.
 * A check that throws counts as "not yet"; if time runs out, the error names `message`,
 * the time waited, and the last error thrown (also as its `cause`).
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${options.message ?? "the condition"}${last}`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
