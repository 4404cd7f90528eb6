// Jittered exponential backoff: how long to wait before the next attempt.

export type Backoff = {
  /** Upper bound of the first retry's delay. */
  initialMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
};

/**
 * Delay before retry number `attempt` (1 = the first retry): "full jitter", a uniform
 * draw in [0, min(maxMs, initialMs · 2^(attempt-1))). Full jitter rather than a fixed
 * floor so that many clients failing together spread out instead of retrying in waves
 * (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(
  attempt: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
