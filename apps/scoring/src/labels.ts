/**
 * Scoring's examples and their labels (ADR 0017). Every emitted score keeps the features
 * it was computed from; when the engine settles a send (`outreach.settled.v1`), the score
 * it was decided on gets its label — 1 when the campaign's reward arrived inside the
 * attribution window, 0 when the window closed without it (silence included: most leads
 * never answer, and a model that never sees them is not a probability). A send to an
 * address that bounced hard is excluded: nobody read it, so it says nothing about the
 * lead. Leads never contacted are never labelled. Set-based: one statement per batch.
 */
import { type Executor, queryRows } from "@pw/db";
import * as schema from "@pw/db/scoring";
import type { OutreachSettledV1 } from "@pw/events";
import { and, isNull, lt, sql } from "drizzle-orm";
import type { Example } from "./decision.ts";

/** One row per emitted `lead.scored.v1` (its id), in the transaction that emits it. */
export async function insertExamples(
  tx: Executor,
  rows: (Example & { scoredEventId: string; leadId: string; scoredAt: Date })[],
): Promise<void> {
  if (rows.length === 0) return;
  await tx.insert(schema.examples).values(rows).onConflictDoNothing();
}

export type Settled = { leadId: string; data: OutreachSettledV1["data"] };

/**
 * Labels the examples the settled sends were decided on; returns the request ids that
 * labelled one (not: excluded sends, sends whose score scoring never kept, sends
 * already labelled). A send without a scored event id is matched to the lead's last score
 * before it was requested.
 */
export async function labelSends(tx: Executor, settled: Settled[], at: Date): Promise<Set<string>> {
  if (settled.length === 0) return new Set();
  const rows = settled.map((s) => ({
    lead_id: s.leadId,
    scored_event_id: s.data.scoredEventId ?? null,
    request_id: s.data.requestId,
    label: s.data.rewarded ? 1 : 0,
    requested_at: s.data.requestedAt,
  }));
  const labelled = await queryRows<{ requestId: string }>(
    tx,
    sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as v(lead_id text, scored_event_id text, request_id text, label smallint,
             requested_at timestamptz)
    ),
    target as (
      select distinct on (v.request_id) e.scored_event_id, v.label, v.request_id
      from v
      join ${schema.examples} e on e.lead_id = v.lead_id
        and (e.scored_event_id = v.scored_event_id
             or (v.scored_event_id is null and e.scored_at <= v.requested_at))
      left join ${schema.leads} l on l.lead_id = v.lead_id
      -- A hard bounce (soft ones are not counted) means nobody read it: no label.
      where coalesce((l.engagement ->> 'bounced')::int, 0) = 0
      order by v.request_id, e.scored_at desc
    )
    update ${schema.examples} e
       set label = target.label, labelled_at = ${at.toISOString()}::timestamptz,
           request_id = target.request_id
      from target
     where e.scored_event_id = target.scored_event_id and e.label is null
    returning e.request_id as "requestId"`,
  );
  return new Set(labelled.map((r) => r.requestId));
}

/** How long examples are kept: past any attribution window unlabelled, half a year labelled. */
export const EXAMPLE_RETENTION = { unlabelledDays: 45, labelledDays: 180 } as const;

/**
 * Deletes the examples no settlement can label any more (scored longer ago than any send's
 * window) and labelled ones older than a refit would read; returns how many.
 */
export async function pruneExamples(db: Executor, now: Date): Promise<number> {
  const day = 86_400_000;
  const deleted = await db
    .delete(schema.examples)
    .where(
      sql`(${and(
        isNull(schema.examples.label),
        lt(
          schema.examples.scoredAt,
          new Date(now.getTime() - EXAMPLE_RETENTION.unlabelledDays * day),
        ),
      )}) or ${lt(schema.examples.labelledAt, new Date(now.getTime() - EXAMPLE_RETENTION.labelledDays * day))}`,
    )
    .returning({ id: schema.examples.scoredEventId });
  return deleted.length;
}
