/**
 * Event times from the future: a sender's clock may run a little fast, but an
 * `occurredAt` far ahead (a typo, a year 9999) would win every "newest news wins"
 * comparison downstream for ever, so the edge refuses it.
 */
import type { Issue } from "./errors.ts";

/** How far ahead of our clock an event time may be (sender clock skew). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** The issue with `occurredAt` if it is more than `maxSkewMs` after `nowMs`. */
export function futureIssue(
  occurredAt: string,
  nowMs: number,
  maxSkewMs: number,
): Issue | undefined {
  const aheadMs = Date.parse(occurredAt) - nowMs;
  if (!(aheadMs > maxSkewMs)) return undefined;
  return {
    path: "occurredAt",
    message: `is in the future: ${describeAhead(aheadMs)} ahead of the server clock (at most ${describeAhead(maxSkewMs)} allowed)`,
  };
}

function describeAhead(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 120) return `${Math.round(minutes * 10) / 10} minutes`;
  const days = minutes / 1440;
  return days < 2 ? `${Math.round(minutes / 60)} hours` : `${Math.round(days)} days`;
}
