// Client-side pacing per rate-limit category (read, write, search: Lightfield counts each
// separately, 25 req/s per organisation). The `X-RateLimit-*` headers rule: Remaining 0
// holds the category until Reset; a low Remaining spreads what is left until Reset (another
// process of the organisation may be spending the same budget); a 429's Retry-After holds
// the whole category, not only the call that met it.
import { sleep } from "@pw/resilience";

export type Category = "read" | "write" | "search";
export const CATEGORIES: readonly Category[] = ["read", "write", "search"];

/** Lightfield's documented ceiling per category (read, write, search). */
export const MAX_RATE = 25;
/** 5% headroom on the spacing: timer and network jitter must not push a window over. */
const HEADROOM = 1.05;

export type PacerOptions = {
  /** Requests per second per category at most (default and ceiling 25). */
  ratePerSecond?: number;
  /** The longest a header may hold a category (a Reset far off is clock skew). Default 60 s. */
  maxHoldMs?: number;
};

type Lane = {
  rate: number;
  /** Earliest start of the next request by even spacing. */
  nextSlot: number;
  /** Nothing starts before this (Remaining 0 until Reset, or a 429's Retry-After). */
  holdUntil: number;
  lastStart: number;
  /** While Remaining is low: at least this long between starts, until `spreadUntil`. */
  spreadGapMs: number;
  spreadUntil: number;
};

export type Headers = Record<string, string | string[] | undefined>;

export type Pacer = ReturnType<typeof createPacer>;

export function createPacer(options: PacerOptions = {}) {
  const ceiling = Math.max(0.1, Math.min(MAX_RATE, options.ratePerSecond ?? MAX_RATE));
  const maxHoldMs = options.maxHoldMs ?? 60_000;
  const lanes = new Map<Category, Lane>();
  const lane = (category: Category): Lane => {
    let l = lanes.get(category);
    if (!l) {
      l = {
        rate: ceiling,
        nextSlot: 0,
        holdUntil: 0,
        lastStart: 0,
        spreadGapMs: 0,
        spreadUntil: 0,
      };
      lanes.set(category, l);
    }
    return l;
  };

  return {
    /** Waits for the category's next slot and takes it; resolves with the ms it waited. */
    async acquire(category: Category, signal?: AbortSignal): Promise<number> {
      const l = lane(category);
      const started = Date.now();
      for (;;) {
        const now = Date.now();
        const spread =
          l.spreadUntil > now ? Math.min(l.lastStart + l.spreadGapMs, l.spreadUntil) : 0;
        const at = Math.max(now, l.nextSlot, l.holdUntil, spread);
        if (at <= now) break;
        // Re-check after waking: another caller may have taken the slot meanwhile.
        await sleep(at - now, signal);
      }
      const now = Date.now();
      l.lastStart = now;
      l.nextSlot = now + (1000 * HEADROOM) / l.rate;
      return now - started;
    },

    /** Learns from a response's headers (and a 429's Retry-After, in ms). */
    observe(category: Category, headers: Headers, retryAfterMs?: number) {
      const l = lane(category);
      const now = Date.now();
      const limit = Number(header(headers, "x-ratelimit-limit"));
      if (Number.isFinite(limit) && limit > 0) {
        l.rate = Math.min(ceiling, limit);
        // The slot already handed out assumed the old rate.
        l.nextSlot = Math.max(l.nextSlot, l.lastStart + (1000 * HEADROOM) / l.rate);
      }
      const remainingRaw = header(headers, "x-ratelimit-remaining");
      const remaining = Number(remainingRaw);
      const reset = Number(header(headers, "x-ratelimit-reset"));
      if (remainingRaw !== undefined && Number.isFinite(remaining) && Number.isFinite(reset)) {
        // Reset is unix seconds; one far off (clock skew) is capped.
        const resetAt = Math.min(reset * 1000, now + maxHoldMs);
        if (remaining <= 0) l.holdUntil = Math.max(l.holdUntil, resetAt);
        else if (resetAt > now) {
          l.spreadGapMs = (resetAt - now) / remaining;
          l.spreadUntil = resetAt;
        }
      }
      if (retryAfterMs !== undefined)
        l.holdUntil = Math.max(l.holdUntil, now + Math.min(retryAfterMs, maxHoldMs));
    },
  };
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
