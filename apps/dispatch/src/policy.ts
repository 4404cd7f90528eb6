/**
 * The send policy's pure parts: quiet hours and quiet days in the lead's own time zone
 * (a send due inside them waits for the next allowed minute, never dropped), cap buckets,
 * and the recipient domain a per-domain cap counts against.
 */
import type { PolicySettings } from "./config.ts";

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** Weekday (0 = Sunday) and minute of the day at `at` in `zone`. */
export function localTime(at: Date, zone: string): { weekday: number; minute: number } {
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const p of formatter(zone).formatToParts(at)) {
    if (p.type === "weekday") weekday = WEEKDAYS.indexOf(p.value);
    else if (p.type === "hour") hour = Number(p.value);
    else if (p.type === "minute") minute = Number(p.value);
  }
  return { weekday, minute: hour * 60 + minute };
}

type Quiet = Pick<PolicySettings, "quietHours" | "quietDays">;

function inQuietHours(minute: number, q: Quiet["quietHours"]): boolean {
  if (!q) return false;
  return q.startMin < q.endMin
    ? minute >= q.startMin && minute < q.endMin
    : minute >= q.startMin || minute < q.endMin;
}

/**
 * When a send due at `at` may go in `zone`: `at` itself when it is allowed, else the first
 * allowed minute after it (the end of the quiet hours, or the first minute of the next
 * allowed day). Exact across daylight-saving changes: each candidate is checked in the
 * zone, and a missing or repeated local hour only moves it by minutes.
 */
export function nextAllowed(at: Date, zone: string, q: Quiet): Date {
  let t = at.getTime();
  for (let guard = 0; guard < 16; guard++) {
    const local = localTime(new Date(t), zone);
    const quietDay = q.quietDays.includes(local.weekday);
    if (!quietDay && !inQuietHours(local.minute, q.quietHours)) return new Date(t);
    // The local minute to reach: midnight after a quiet day, else the end of the quiet hours.
    const target = quietDay ? 0 : q.quietHours!.endMin;
    const startOfMinute = t - (((t % 60_000) + 60_000) % 60_000);
    let next = startOfMinute + ((target - local.minute + 1440) % 1440 || 1440) * 60_000;
    // Across a daylight-saving change the wall clock moved by the shift: correct for it.
    for (let fix = 0; fix < 3; fix++) {
      const reached = localTime(new Date(next), zone).minute;
      let diff = target - reached;
      if (diff > 720) diff -= 1440;
      if (diff < -720) diff += 1440;
      if (diff === 0 || next + diff * 60_000 <= t) break;
      next += diff * 60_000;
    }
    t = next;
  }
  return new Date(t);
}

/** The UTC hour bucket (`2026-12-01T14`) and when the next one starts. */
export function hourBucket(at: Date): { bucket: string; next: Date } {
  const start = Math.floor(at.getTime() / 3_600_000) * 3_600_000;
  return { bucket: new Date(start).toISOString().slice(0, 13), next: new Date(start + 3_600_000) };
}

/** The UTC day bucket (`2026-12-01`) and when the next one starts. */
export function dayBucket(at: Date): { bucket: string; next: Date } {
  const start = Math.floor(at.getTime() / 86_400_000) * 86_400_000;
  return { bucket: new Date(start).toISOString().slice(0, 10), next: new Date(start + 86_400_000) };
}

/** The lower-cased domain of an e-mail address (undefined for other channels' ids). */
export function recipientDomain(channel: string, to: string): string | undefined {
  if (channel !== "email") return undefined;
  const at = to.lastIndexOf("@");
  return at > 0 ? to.slice(at + 1).toLowerCase() : undefined;
}

/** The zone to plan a lead's quiet hours in. */
export function zoneOf(timeZone: string | null | undefined, fallback: string): string {
  return timeZone && isTimeZone(timeZone) ? timeZone : fallback;
}
