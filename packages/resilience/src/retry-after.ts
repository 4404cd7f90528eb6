// The HTTP `Retry-After` header (RFC 9110 §10.2.3) as a number of milliseconds.

/** The longest wait a Retry-After header can ask of us unless the caller says otherwise. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Parses `Retry-After`: delay-seconds (`"120"`; a fraction is tolerated) or an HTTP-date
 * (`"Wed, 21 Oct 2026 07:28:00 GMT"`, measured from `now`). The result is clamped to
 * [0, maxMs] so that a confused or hostile server cannot park a caller for hours.
 * `undefined` when the header is absent or unreadable: the caller falls back to backoff.
 */
export function retryAfterMs(
  value: string | readonly string[] | null | undefined,
  now: number = Date.now(),
  maxMs: number = DEFAULT_MAX_RETRY_AFTER_MS,
): number | undefined {
  const raw = (typeof value === "string" ? value : value?.[0])?.trim();
  if (!raw) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(raw)) ms = Number(raw) * 1_000;
  else {
    // An HTTP-date names its day and month; without letters Date.parse would read "-5"
    // as a year.
    const at = /[a-z]/i.test(raw) ? Date.parse(raw) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.round(Math.min(maxMs, Math.max(0, ms)));
}
