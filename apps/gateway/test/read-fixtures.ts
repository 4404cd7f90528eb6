// Events as the other services publish them, for the read side's tests.
import { envelope } from "@pw/events";
import { sql } from "drizzle-orm";

const T0 = Date.UTC(2026, 10, 24, 12);
/** A time `m` minutes after a fixed start (ISO). */
export const at = (m: number) => new Date(T0 + m * 60_000).toISOString();

type Opts = { id?: string; time?: string };
const ids = (o: Opts) => ({ ...(o.id ? { id: o.id } : {}), ...(o.time ? { time: o.time } : {}) });

export function crm(
  leadId: string,
  profile: Record<string, unknown>,
  occurredAt = at(0),
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "lead.crm_record_changed.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      source: "lightfield_webhook",
      objectType: "contacts",
      objectId: `rec_${leadId}`,
      operation: "updated",
      occurredAt,
      record: { id: `rec_${leadId}`, fields: {}, relationships: {} },
      profile,
    },
  });
}

export function scored(
  leadId: string,
  d: { score?: number; tier?: string; segment?: string; scoredAt?: string; pad?: number } = {},
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "lead.scored.v1",
    source: "pw://scoring",
    subject: leadId,
    data: {
      score: d.score ?? 80,
      tier: d.tier ?? "hot",
      segment: d.segment ?? "vp_mid",
      reasons: [
        { code: "firmo.size", label: "Mid-size company", contribution: 5 },
        { code: "intent.pricing_viewed", label: "Viewed pricing 2 hours ago", contribution: 30 },
        { code: "seniority.vp", label: "VP", contribution: 20 },
        { code: "recency.stale", label: "No activity for a month", contribution: -12 },
      ],
      facts: { firstName: "Ada", company: "Acme", painPoint: "x".repeat(d.pad ?? 0) },
      model: { scorer: "builtin", version: "builtin-v1" },
      contactable: true,
      scoredAt: d.scoredAt ?? at(1),
    },
  });
}

export function requested(
  leadId: string,
  d: { priority?: number; body?: string } = {},
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "outreach.requested.v1",
    source: "pw://experiments",
    subject: leadId,
    data: {
      requestId: `req_${leadId}`,
      segment: "vp_mid",
      variantId: "roi",
      channel: "email",
      to: `${leadId}@acme.io`,
      subject: "Hello",
      body: d.body ?? "Hi Ada",
      priority: d.priority ?? 70.4,
      cadenceStep: 0,
      explanation: {
        summary: "roi leads vp_mid with P(best) 62%",
        policy: "thompson",
        propensity: 0.6,
        arms: [],
      },
      requestedAt: at(2),
    },
  });
}

export function dispatched(
  leadId: string,
  d: {
    status?: "sent" | "deferred" | "skipped" | "failed";
    channel?: string;
    variantId?: string;
    step?: number;
    reason?: string;
  } = {},
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "outreach.dispatched.v1",
    source: "pw://dispatch",
    subject: leadId,
    data: {
      requestId: `req_${leadId}`,
      variantId: d.variantId ?? "roi",
      channel: d.channel ?? "email",
      status: d.status ?? "sent",
      ...(d.reason ? { reason: d.reason } : {}),
      provider: { name: "local" },
      cadenceStep: d.step ?? 0,
      attempt: 1,
      at: o.time ?? at(3),
    },
  });
}

export function outcome(
  leadId: string,
  kind: string,
  extra: Record<string, unknown> = {},
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "outreach.outcome.v1",
    source: "pw://ingest",
    subject: leadId,
    data: { outcome: kind, occurredAt: at(4), requestId: `req_${leadId}`, ...extra },
  });
}

export function optedOut(leadId: string, o: Opts = {}) {
  return envelope({
    ...ids(o),
    type: "lead.opted_out.v1",
    source: "pw://experiments",
    subject: leadId,
    data: { source: "unsubscribe_link", reason: "one-click unsubscribe", at: at(5) },
  });
}

export type ArmInput = {
  variantId: string;
  exposures: number;
  successes: number;
  pBest: number;
  status?: string;
};

export function snapshot(segment: string, arms: ArmInput[], when = at(10), o: Opts = {}) {
  return envelope({
    ...ids(o),
    type: "experiment.posterior_snapshot.v1",
    source: "pw://experiments",
    subject: `segment:${segment}`,
    data: {
      segment,
      reward: "converted",
      arms: arms.map((a) => {
        const mean = (a.successes + 1) / (a.exposures + 2);
        return {
          variantId: a.variantId,
          mean,
          low: Math.max(0, mean - 0.05),
          high: Math.min(1, mean + 0.05),
          pBest: a.pBest,
          exposures: a.exposures,
          successes: a.successes,
          status: a.status ?? "active",
        };
      }),
      at: when,
    },
  });
}

export function statusChanged(
  segment: string,
  variantId: string,
  from: string,
  to: string,
  reason: string,
  when = at(11),
  by: "engine" | "operator" = "engine",
  o: Opts = {},
) {
  return envelope({
    ...ids(o),
    type: "experiment.variant_status_changed.v1",
    source: "pw://experiments",
    subject: `segment:${segment}`,
    data: { segment, variantId, from, to, reason, by, at: when },
  });
}

/** Empties the read side's tables (one migrated database per file, a clean slate per test). */
export async function resetReadTables(db: import("@pw/db").Executor): Promise<void> {
  await db.execute(
    sql`truncate gateway.stream_events, gateway.leads, gateway.arms restart identity`,
  );
}

/** A lead event carrying `bytes` of raw payload (big rows fill a socket's buffers fast). */
export function bulky(leadId: string, bytes: number, o: Opts = {}) {
  return envelope({
    ...ids(o),
    type: "lead.unknown_event.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      source: "lightfield_webhook",
      originalType: "contact.enriched",
      occurredAt: at(0),
      raw: { blob: "x".repeat(bytes) },
    },
  });
}

/** The engine's "nothing can be sent in <segment>" and "<segment> can send again" (ADR 0014). */
export function segmentBlocked(segment: string, blocked: boolean, reason: string, when = at(30)) {
  return envelope({
    ...ids({}),
    type: blocked ? "experiment.segment_blocked.v1" : "experiment.segment_unblocked.v1",
    source: "pw://experiments",
    subject: `segment:${segment}`,
    data: blocked
      ? { segment, reason, variants: [{ variantId: "pain", status: "paused" }], at: when }
      : { segment, reason, active: ["pain"], at: when },
  });
}

/** The engine's "the market moved in <segment>: learning starts over" (ADR 0015). */
export function changeDetected(segment: string, reason: string, when = at(32)) {
  return envelope({
    ...ids({}),
    type: "experiment.change_detected.v1",
    source: "pw://experiments",
    subject: `segment:${segment}`,
    data: {
      segment,
      reason,
      changed: [{ variantId: "pain", recentRate: 0.02, longRunRate: 0.05, score: -4.4 }],
      revived: ["roi"],
      at: when,
    },
  });
}
