/**
 * Pure functions over what scoring knows of a lead: its profile merged from
 * events by the time they happened, its recent intent signals, and the facts
 * outreach may quote. No I/O: lead-store.ts reads and writes, this decides.
 */
import type { StoredProfile } from "@pw/db/scoring";
import type { IntentSignalV1, LeadEvent, LeadScoredV1 } from "@pw/events";
import { type Profile, painPointFor, SIGNAL_WEIGHTS, type Signal } from "./model/features.ts";

/** Each field remembers the `occurredAt` it came from (column `scoring.leads.profile`). */
export type { StoredProfile };

/** A lead event that says something about a lead (everything but the unknown one). */
export type KnownLeadEvent = Exclude<LeadEvent, { type: "lead.unknown_event.v1" }>;

/** Signals older than this no longer move the score (decay makes them ~0). */
export const SIGNAL_WINDOW_DAYS = 90;
/** The most recent signals the score looks at. */
export const MAX_SIGNALS = 200;

export function mergeProfile(
  stored: StoredProfile,
  patch: Record<string, unknown>,
  at: string,
): { merged: StoredProfile; changed: boolean } {
  const merged = { ...stored };
  let changed = false;
  const instant = Date.parse(at);
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const existing = merged[field];
    // Older news never overwrites newer data; equal times: the later delivery wins.
    // Instants, not text: "09:00:00-05:00" is after "12:00:00.500Z", and the
    // sources write offsets and fractional seconds as they please.
    if (existing && Date.parse(existing.at) > instant) continue;
    if (!existing || existing.value !== value) changed = true;
    merged[field] = { value, at };
  }
  return { merged, changed };
}

/** The stored profile with `event`'s fields merged in by the time it happened. */
export function applyEvent(stored: StoredProfile, event: KnownLeadEvent): StoredProfile {
  const patch =
    event.type === "lead.crm_record_changed.v1" ? event.data.profile : (event.data.profile ?? {});
  return mergeProfile(stored, patch, event.data.occurredAt).merged;
}

export function flatten(stored: StoredProfile): Profile {
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, v.value])) as Profile;
}

/** Where the signal window starts at `now`. */
export function signalWindowStart(now: Date): Date {
  return new Date(now.getTime() - SIGNAL_WINDOW_DAYS * 86_400_000);
}

export function signalOf(
  event: IntentSignalV1,
): Signal & { kind: IntentSignalV1["data"]["signal"] } {
  return {
    kind: event.data.signal,
    occurredAt: new Date(event.data.occurredAt),
    url: event.data.url ?? null,
  };
}

/**
 * `signals` (newest first, as the store returns them) with `signal` added, as
 * the store would return them once it is written: a signal from before the
 * window is kept in the table but not counted.
 */
export function withSignal(signals: Signal[], signal: Signal, since: Date): Signal[] {
  if (signal.occurredAt < since) return signals;
  return [...signals, signal].sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
}

/** What outreach may say about the lead, and the latest signal as the trigger. */
export function facts(profile: Profile, signals: Signal[]): LeadScoredV1["data"]["facts"] {
  const latest = signals[0];
  const f: LeadScoredV1["data"]["facts"] = {};
  if (profile.email) f.email = profile.email;
  if (profile.firstName) f.firstName = profile.firstName;
  if (profile.company) f.company = profile.company;
  if (profile.title) f.role = profile.title;
  if (profile.industry) f.industry = profile.industry;
  if (latest) f.trigger = SIGNAL_WEIGHTS[latest.kind]?.label ?? latest.kind;
  f.painPoint = painPointFor(profile.industry);
  if (profile.timezone) f.timezone = profile.timezone;
  return f;
}
