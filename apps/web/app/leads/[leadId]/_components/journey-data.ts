/**
 * What the journey reads of each event's data: mirrors of the `@pw/events` schemas the
 * gateway validated before storing them, every field optional so an older or newer event
 * renders what it has instead of failing.
 */
import type { StreamRow } from "../../../../lib/topics.ts";

export type Message = { subject?: string; body?: string };

export type CrmChanged = {
  source?: string;
  objectType?: string;
  operation?: string;
  occurredAt?: string;
  diff?: Record<string, { from?: unknown; to?: unknown }>;
  profile?: Record<string, unknown>;
};

export type IntentSignal = {
  signal?: string;
  occurredAt?: string;
  url?: string;
  properties?: Record<string, unknown>;
};

export type Scored = {
  score?: number;
  tier?: string;
  segment?: string;
  reasons?: { code: string; label: string; contribution: number }[];
  model?: { scorer?: string; version?: string; fallbackReason?: string };
  contactable?: boolean;
  previous?: { score: number; tier: string; segment: string };
};

export type Arm = {
  variantId: string;
  mean: number;
  low: number;
  high: number;
  pBest: number;
  exposures: number;
};

export type Requested = Message & {
  requestId?: string;
  segment?: string;
  variantId?: string;
  channel?: string;
  to?: string;
  priority?: number;
  cadenceStep?: number;
  track?: string;
  explanation?: { summary?: string; policy?: string; propensity?: number; arms?: Arm[] };
  followUps?: (Message & { step: number; delayDays: number })[];
  copy?: { writer?: string; fallbackReason?: string };
};

export type Dispatched = {
  requestId?: string;
  dispatchId?: string;
  variantId?: string;
  channel?: string;
  status?: string;
  reason?: string;
  provider?: { name?: string; messageId?: string };
  cadenceStep?: number;
  track?: string;
  nextStepAt?: string;
  attempt?: number;
};

export type Outcome = {
  outcome?: string;
  occurredAt?: string;
  variantId?: string;
  channel?: string;
  url?: string;
  bounceType?: string;
  originalType?: string;
  rawKeys?: string[];
};

export type OptedOut = { source?: string; reason?: string; channel?: string };

export type OperatorCommand = { action?: string; operator?: string; reason?: string };

export type CommandResult = { commandId?: string; result?: string; detail?: string };

/** The decisions in a journey by request id: a send shows the message its decision wrote. */
export function requestsOf(rows: readonly StreamRow[]): Map<string, Requested> {
  const m = new Map<string, Requested>();
  for (const r of rows)
    if (r.type === "outreach.requested.v1") {
      const d = r.data as Requested;
      if (d.requestId) m.set(d.requestId, d);
    }
  return m;
}

/** The message of cadence step `step` of a decision (its own step, or a follow-up). */
export function messageOf(
  req: Requested | undefined,
  step: number | undefined,
): Message | undefined {
  if (!req) return undefined;
  if (step === undefined || step === (req.cadenceStep ?? 0)) return req;
  return req.followUps?.find((f) => f.step === step);
}

/** A value from event data as short text (never markup). */
export function text(v: unknown, max = 200): string {
  if (v === null || v === undefined) return "—";
  const s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
