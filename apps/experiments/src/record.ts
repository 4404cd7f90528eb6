/**
 * A batch of decisions written in one transaction, one statement per step however many
 * leads it holds (ADR 0016): the leads whose decision failed are set aside and those with
 * no variant to send noted; the queued leads are claimed — a lead another instance or a
 * rescore took is skipped, one on the do-not-contact list resolved as such; today's
 * capacity is granted for as many as it holds, in priority order (the rest go back to the
 * queue); the decisions are inserted with what they knew, then held for an operator
 * (announced) or counted on their arms and enqueued as requests (outbox).
 */
import { type Executor, queryRows } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { distributionMetric } from "@pw/telemetry";
import { and, eq, inArray, sql } from "drizzle-orm";
import { announceHeld } from "./approvals.ts";
import type { EngineContext } from "./context.ts";
import type { Decided } from "./decide.ts";
import { publishRequests } from "./publish.ts";
import {
  countExposures,
  type FailedDecision,
  grantCapacity,
  jsonRows,
  type QueuedLead,
  setAside,
} from "./store.ts";

export type Batch = {
  /** Written decisions, in priority order. */
  decided: Decided[];
  /** Leads read off the do-not-contact list with the queue: nothing was chosen for them. */
  listed: QueuedLead[];
  /** Leads whose decision could not be written, with the reason. */
  failed: { lead: QueuedLead; variantId: string; reason: string }[];
  /** Leads whose segment has no active variant: they wait for an operator. */
  blocked: QueuedLead[];
};

export const emptyBatch = (): Batch => ({ decided: [], listed: [], failed: [], blocked: [] });

export type Recorded = {
  /** Requested (or held, in approval mode), in priority order. */
  recorded: Decided[];
  /** Chosen but not recorded: the lead was taken meanwhile, or is on the do-not-contact list. */
  dropped: Decided[];
  /** Today's capacity ran out: the decisions after `recorded` stay queued. */
  spent: boolean;
  /** The batch's leads set aside, as the drain reports them. */
  failed: FailedDecision[];
};

const LISTED_NOTE = "on the do-not-contact list";
const BLOCKED_NOTE = "no active variant in this segment; waiting for an operator";

/**
 * Claims the leads still queued for the event they were read with, in lead id order and
 * skipping rows another transaction holds (so two instances claiming overlapping batches
 * neither wait on nor deadlock with one another), and resolves those on the do-not-contact
 * list. A lead nothing was chosen for (`decided: false`) is claimed only for that. Returns
 * each claimed lead's new status.
 */
async function claim(
  tx: Executor,
  leads: { lead: QueuedLead; decided: boolean }[],
  status: "requested" | "pending_approval",
  at: Date,
): Promise<Map<string, string>> {
  if (leads.length === 0) return new Map();
  const keys = leads.map(({ lead, decided }) => ({
    lead_id: lead.leadId,
    event_id: lead.eventId,
    decided,
  }));
  const rows = await queryRows<{ lead_id: string; status: string }>(
    tx,
    sql`with v as (select * from ${jsonRows(keys, "(lead_id text, event_id text, decided boolean)")}),
        mine as (
          select q.lead_id, v.decided from ${schema.queue} q
          join v on q.lead_id = v.lead_id and q.event_id = v.event_id
          where q.status = 'queued'
          order by q.lead_id
          for update of q skip locked
        )
        update ${schema.queue} q set
          status = case when dnc.lead_id is null then ${status} else 'do_not_contact' end,
          note = case when dnc.lead_id is null then q.note else ${LISTED_NOTE} end,
          resolved_at = ${at.toISOString()}::timestamptz
        from mine left join ${schema.doNotContact} dnc on dnc.lead_id = mine.lead_id
        where q.lead_id = mine.lead_id and (mine.decided or dnc.lead_id is not null)
        returning q.lead_id, q.status`,
  );
  return new Map(rows.map((r) => [r.lead_id, r.status]));
}

export async function recordBatch(
  ctx: EngineContext,
  tx: Executor,
  batch: Batch,
  o: { held: boolean; day: string },
): Promise<Recorded> {
  const at = ctx.now();
  const status = o.held ? "pending_approval" : "requested";
  const failed = await setAside(tx, batch.failed, at);
  if (batch.blocked.length > 0)
    await tx
      .update(schema.queue)
      .set({ note: BLOCKED_NOTE })
      .where(
        and(
          inArray(
            schema.queue.leadId,
            batch.blocked.map((l) => l.leadId),
          ),
          eq(schema.queue.status, "queued"),
        ),
      );
  const claimed = await claim(
    tx,
    [
      ...batch.listed.map((lead) => ({ lead, decided: false })),
      ...batch.decided.map((d) => ({ lead: d.lead, decided: true })),
    ],
    status,
    at,
  );
  const eligible = batch.decided.filter((d) => claimed.get(d.lead.leadId) === status);
  const dropped = batch.decided.filter((d) => claimed.get(d.lead.leadId) !== status);
  // Held decisions spend capacity when approved (the drain holds no more than the day's room).
  const granted =
    o.held || eligible.length === 0
      ? eligible.length
      : await grantCapacity(tx, o.day, eligible.length, ctx.settings.capacity.perDay);
  const recorded = eligible.slice(0, granted);
  const back = eligible.slice(granted);
  if (back.length > 0)
    await tx
      .update(schema.queue)
      .set({ status: "queued", resolvedAt: null })
      .where(
        inArray(
          schema.queue.leadId,
          back.map((d) => d.lead.leadId),
        ),
      );
  if (recorded.length > 0) await write(ctx, tx, recorded, o.held, at);
  return { recorded, dropped, spent: back.length > 0, failed };
}

/** The decisions, then what they cause: held announcements, or sends counted and enqueued. */
async function write(
  ctx: EngineContext,
  tx: Executor,
  recorded: Decided[],
  held: boolean,
  at: Date,
) {
  // What every decision of the batch shares (its clock, state and policy) is bound once.
  const rows = recorded.map(({ lead, decision, request, arms }) => ({
    request_id: request.data.requestId,
    lead_id: lead.leadId,
    scored_event_id: lead.eventId,
    traceparent: request.traceparent,
    segment: lead.segment,
    variant_id: decision.armId,
    policy: decision.policy,
    propensity: decision.propensity,
    arms,
    pending_request: held ? request : undefined,
  }));
  // The engine's clock, not the database's: windows are judged on one clock.
  const when = sql`${at.toISOString()}::timestamptz`;
  const policy: schema.DecisionContext["policy"] = ctx.policy;
  await tx.execute(
    sql`insert into ${schema.decisions} (request_id, lead_id, segment, variant_id, policy,
          propensity, decided_at, state, requested_at, context, pending_request, scored_event_id,
          traceparent)
        select request_id, lead_id, segment, variant_id, policy, propensity, ${when},
          ${held ? "pending_approval" : "requested"}, ${held ? sql`null` : when},
          jsonb_build_object('arms', arms, 'policy', ${JSON.stringify(policy)}::jsonb),
          pending_request, scored_event_id, traceparent
        from ${jsonRows(
          rows,
          `(request_id text, lead_id text, scored_event_id text, traceparent text, segment text, variant_id text,
            policy text, propensity real, arms jsonb, pending_request jsonb)`,
        )}`,
  );
  if (held) {
    await announceHeld(
      tx,
      recorded.map((d) => ({ request: d.request, facts: d.lead.facts })),
      at,
    );
    return;
  }
  const sends = new Map<string, { segment: string; variantId: string; n: number }>();
  for (const { lead, decision } of recorded) {
    // Score to decision: the wait for a variant (queue, capacity), per segment.
    distributionMetric(
      "pw.decision.latency",
      Math.max(0, at.getTime() - lead.queuedAt.getTime()),
      { segment: lead.segment },
      "millisecond",
    );
    const key = `${lead.segment}\u0000${decision.armId}`;
    const s = sends.get(key) ?? { segment: lead.segment, variantId: decision.armId, n: 0 };
    s.n++;
    sends.set(key, s);
  }
  await countExposures(tx, [...sends.values()], at);
  await publishRequests(
    tx,
    recorded.map((d) => d.request),
  );
}
