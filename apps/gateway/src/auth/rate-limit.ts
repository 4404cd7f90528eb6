/**
 * Login attempts per key (username + client IP) in a fixed one-minute window, in memory:
 * enough to make online guessing slow on one instance; several instances each allow the
 * limit (documented in the README).
 */
export type LoginLimiter = {
  /** Counts an attempt; `retryAfterS` when over the limit (the attempt is not made). */
  hit(key: string, now?: number): { ok: true } | { ok: false; retryAfterS: number };
};

export function loginLimiter(maxPerWindow: number, windowMs = 60_000): LoginLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = (now: number) => {
    for (const [key, w] of windows) if (w.resetAt <= now) windows.delete(key);
  };
  return {
    hit(key, now = Date.now()) {
      if (windows.size > 10_000) sweep(now);
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count += 1;
      if (w.count <= maxPerWindow) return { ok: true };
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
    },
  };
}
