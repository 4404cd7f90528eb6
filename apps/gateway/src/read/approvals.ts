/**
 * The approval queue: decisions the engine holds for an operator
 * (`experiment.decision_held.v1`, with the message exactly as it will be sent) until it
 * says how each ended (`experiment.decision_resolved.v1`: approved, rejected, withdrawn).
 * Projected into `gateway.approvals`; `GET /api/approvals` lists the ones still waiting,
 * oldest first, each with the lead as the gateway knows it.
 */
import type { Db, Tx } from "@pw/db";
import { approvalView, leadView } from "@pw/db/gateway";
import type { DecisionHeldV1, DecisionResolvedV1 } from "@pw/events";
import { and, asc, eq, sql } from "drizzle-orm";
import { z } from "zod";

export const ApprovalsQuery = z.object({
  limit: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce.number().int().min(1).max(500).default(100),
  ),
});

export async function projectHeld(
  tx: Tx,
  leadId: string,
  d: DecisionHeldV1["data"],
): Promise<void> {
  const held = {
    leadId,
    segment: d.request.segment,
    variantId: d.request.variantId,
    request: d.request as unknown as Record<string, unknown>,
    lead: d.lead,
    heldAt: new Date(d.heldAt),
  };
  // A resolution seen first (it cannot be, on one partition — but a replay could) stays.
  await tx
    .insert(approvalView)
    .values({ requestId: d.request.requestId, ...held })
    .onConflictDoUpdate({ target: approvalView.requestId, set: held });
}

export async function projectResolved(
  tx: Tx,
  leadId: string,
  d: DecisionResolvedV1["data"],
): Promise<void> {
  const resolved = {
    resolution: d.resolution,
    resolvedBy: d.by,
    resolvedReason: d.reason,
    resolvedAt: new Date(d.at),
  };
  // The first resolution stands: a decision ends once.
  await tx
    .insert(approvalView)
    .values({
      requestId: d.requestId,
      leadId,
      segment: d.segment,
      variantId: d.variantId,
      ...resolved,
    })
    .onConflictDoUpdate({
      target: approvalView.requestId,
      set: resolved,
      setWhere: sql`${approvalView.resolution} is null`,
    });
}

type HeldRequest = DecisionHeldV1["data"]["request"];

/** The decisions waiting for an operator, oldest first, and how many there are. */
export async function listApprovals(db: Db, q: z.infer<typeof ApprovalsQuery>) {
  const waiting = and(
    sql`${approvalView.resolution} is null`,
    sql`${approvalView.request} is not null`,
  );
  const rows = await db
    .select({
      approval: approvalView,
      name: leadView.name,
      company: leadView.company,
      score: leadView.score,
      tier: leadView.tier,
      // Counted in the same statement, so the total always agrees with the items.
      total: sql<number>`(count(*) over ())::int`,
    })
    .from(approvalView)
    .leftJoin(leadView, eq(leadView.leadId, approvalView.leadId))
    .where(waiting)
    .orderBy(asc(approvalView.heldAt), asc(approvalView.requestId))
    .limit(q.limit);
  return {
    items: rows.map(({ approval: a, total: _total, ...lead }) => {
      const r = a.request as unknown as HeldRequest;
      return {
        requestId: a.requestId,
        lead: {
          id: a.leadId,
          // The CRM's full name when the gateway has seen it, else what the engine knew.
          name: lead.name ?? a.lead?.firstName ?? null,
          company: lead.company ?? a.lead?.company ?? null,
          role: a.lead?.role ?? null,
          score: lead.score ?? null,
          tier: lead.tier ?? null,
        },
        segment: a.segment,
        variantId: a.variantId,
        channel: r.channel,
        to: r.to,
        message: { subject: r.subject, body: r.body, followUps: r.followUps ?? [] },
        explanation: r.explanation,
        priority: r.priority,
        copy: r.copy ?? null,
        heldAt: a.heldAt!.toISOString(),
      };
    }),
    total: Number(rows[0]?.total ?? 0),
  };
}
