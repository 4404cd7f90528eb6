/**
 * A segment's decision log as the gateway can rebuild it from its own stream (never from
 * the engine's tables): each experiment request on `outreach.requested.v1` — variant,
 * propensity and the arms' P(best) in its explanation — with its fate from
 * `outreach.dispatched.v1` (skipped or failed and never sent: withdrawn, as the engine
 * withdraws it) and its reward from `outreach.outcomes.v1` inside the attribution window.
 * A decision counts once its window has closed, with or without the reward: counting the
 * early successes of still-open windows would bias every estimate upwards.
 */
import { type Db, queryRows } from "@pw/db";
import { streamEvents } from "@pw/db/gateway";
import { evaluable, type PublishedDecision } from "@pw/ope";
import { sql } from "drizzle-orm";

/** The outcomes the gateway can tell apart (it never keeps reply text, so not a reply's intent). */
export const REWARDS = ["replied", "meeting_booked", "converted"] as const;
export type Reward = (typeof REWARDS)[number];

/** At most this many of a segment's latest decisions are read. */
export const MAX_DECISIONS = 20_000;

type RequestRow = {
  subject: string;
  request_id: string;
  variant_id: string;
  requested_at: string;
  explanation: {
    policy?: string;
    propensity?: number;
    arms?: { variantId: string; pBest: number; exposures: number }[];
  } | null;
};

export type SegmentLog = {
  /** Settled experiment decisions (window closed, not withdrawn, evaluable), oldest first. */
  settled: PublishedDecision[];
  counts: { logged: number; open: number; withdrawn: number; notEvaluable: number };
  /** The latest event time seen (the log's own clock, which a demo clock may run ahead). */
  latestAt: number;
};

/** The segment's reward as the engine's latest posterior snapshot names it, if any. */
export async function segmentReward(db: Db, segment: string): Promise<string | undefined> {
  const [row] = await queryRows<{ reward: string | null }>(
    db,
    sql`select ${streamEvents.data}->>'reward' as reward from ${streamEvents}
        where ${streamEvents.subject} = ${`segment:${segment}`}
          and ${streamEvents.type} = 'experiment.posterior_snapshot.v1'
        order by ${streamEvents.seq} desc limit 1`,
  );
  return row?.reward ?? undefined;
}

export async function segmentLog(
  db: Db,
  o: { segment: string; reward: Reward; windowMs: number; now: number },
): Promise<SegmentLog> {
  const requests = (
    await queryRows<RequestRow>(
      db,
      sql`select subject, data->>'requestId' as request_id, data->>'variantId' as variant_id,
            data->>'requestedAt' as requested_at, data->'explanation' as explanation
          from ${streamEvents}
          where ${streamEvents.topic} = 'outreach.requested.v1'
            and ${streamEvents.type} = 'outreach.requested.v1'
            and data->>'segment' = ${o.segment}
            and coalesce(data->>'track', 'experiment') = 'experiment'
          order by ${streamEvents.seq} desc limit ${MAX_DECISIONS}`,
    )
  ).reverse();
  const counts = { logged: requests.length, open: 0, withdrawn: 0, notEvaluable: 0 };
  if (requests.length === 0) return { settled: [], counts, latestAt: 0 };

  // What happened to them: every verdict and every reward outcome of these leads.
  const leads = sql`(select subject from ${streamEvents}
      where ${streamEvents.topic} = 'outreach.requested.v1' and data->>'segment' = ${o.segment})`;
  const verdicts = await queryRows<{ request_id: string; status: string }>(
    db,
    sql`select data->>'requestId' as request_id, data->>'status' as status from ${streamEvents}
        where ${streamEvents.topic} = 'outreach.dispatched.v1' and subject in ${leads}`,
  );
  const outcomes = await queryRows<{
    subject: string;
    request_id: string | null;
    occurred_at: string;
  }>(
    db,
    sql`select subject, data->>'requestId' as request_id, data->>'occurredAt' as occurred_at
        from ${streamEvents}
        where ${streamEvents.topic} = 'outreach.outcomes.v1'
          and ${streamEvents.type} = 'outreach.outcome.v1'
          and data->>'outcome' = ${o.reward}
          and subject in ${leads}`,
  );

  const sent = new Set<string>();
  const refused = new Set<string>();
  for (const v of verdicts) {
    if (v.status === "sent") sent.add(v.request_id);
    else if (v.status === "skipped" || v.status === "failed") refused.add(v.request_id);
  }
  const byId = new Map(requests.map((r) => [r.request_id, r]));
  const byLead = new Map<string, RequestRow[]>();
  for (const r of requests) byLead.set(r.subject, [...(byLead.get(r.subject) ?? []), r]);
  const time = (iso: string) => Date.parse(iso);
  let latestAt = 0;
  for (const r of requests) latestAt = Math.max(latestAt, time(r.requested_at));

  // A reward counts for its request (or, without a request id, the lead's latest request
  // before it) when it happened inside that request's window.
  const rewarded = new Set<string>();
  for (const out of outcomes) {
    const at = time(out.occurred_at);
    latestAt = Math.max(latestAt, at);
    const target = out.request_id
      ? byId.get(out.request_id)
      : byLead
          .get(out.subject)
          ?.filter((r) => time(r.requested_at) <= at)
          .at(-1);
    if (!target) continue;
    const since = at - time(target.requested_at);
    if (since >= 0 && since <= o.windowMs) rewarded.add(target.request_id);
  }

  const now = Math.max(o.now, latestAt);
  const settled: PublishedDecision[] = [];
  for (const r of requests) {
    if (refused.has(r.request_id) && !sent.has(r.request_id)) {
      counts.withdrawn++;
      continue;
    }
    if (time(r.requested_at) + o.windowMs > now) {
      counts.open++;
      continue;
    }
    const e = r.explanation;
    const decision: PublishedDecision = {
      requestId: r.request_id,
      variantId: r.variant_id,
      policy: e?.policy ?? "unknown",
      propensity: Number(e?.propensity ?? 0),
      arms: (e?.arms ?? []).map((a) => ({
        variantId: a.variantId,
        pBest: Number(a.pBest),
        exposures: Number(a.exposures),
      })),
      reward: rewarded.has(r.request_id) ? 1 : 0,
    };
    if (evaluable(decision)) settled.push(decision);
    else counts.notEvaluable++;
  }
  return { settled, counts, latestAt };
}
