/**
 * Decisions held for an operator's approval, announced on `experiment.updates.v1` (keyed
 * by the lead) so that the gateway can show the approval queue without reading this
 * service's tables: `experiment.decision_held.v1` with the request exactly as it will be
 * sent, and `experiment.decision_resolved.v1` when it stops waiting — approved, rejected,
 * or withdrawn by the engine. Each is enqueued in the transaction that changes the decision.
 */
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import {
  type DecisionResolvedV1,
  envelope,
  type OutreachRequested,
  type PersonalisationFacts,
} from "@pw/events";
import { and, eq } from "drizzle-orm";
import { publishUpdate, publishUpdates, SOURCE } from "./publish.ts";

/** Announces decisions just held, in one outbox write. */
export async function announceHeld(
  tx: Executor,
  held: { request: OutreachRequested; facts: PersonalisationFacts }[],
  at: Date,
): Promise<void> {
  await publishUpdates(
    tx,
    held.map(({ request, facts }) =>
      envelope({
        id: `held_${request.data.requestId}`,
        type: "experiment.decision_held.v1",
        source: SOURCE,
        subject: request.subject,
        ...(request.traceparent ? { traceparent: request.traceparent } : {}),
        data: {
          request: request.data,
          lead: {
            ...(facts.firstName ? { firstName: facts.firstName } : {}),
            ...(facts.company ? { company: facts.company } : {}),
            ...(facts.role ? { role: facts.role } : {}),
          },
          heldAt: at.toISOString(),
        },
      }),
    ),
  );
}

type Resolution = Omit<DecisionResolvedV1["data"], "at"> & { leadId: string; at: Date };

export async function announceResolved(tx: Executor, r: Resolution): Promise<void> {
  const { leadId, at, ...data } = r;
  await publishUpdate(
    tx,
    envelope({
      // One resolution per decision: a retried transaction cannot announce a second.
      id: `resolved_${r.requestId}`,
      type: "experiment.decision_resolved.v1",
      source: SOURCE,
      subject: leadId,
      data: { ...data, reason: data.reason.slice(0, 1000), at: at.toISOString() },
    }),
  );
}

/**
 * Withdraws every decision still waiting for approval for the lead (it opted out, was
 * suppressed or put on the do-not-contact list) and announces each. Returns how many.
 */
export async function withdrawHeld(
  tx: Executor,
  leadId: string,
  why: { by: string; reason: string; at: Date },
): Promise<number> {
  const withdrawn = await tx
    .update(schema.decisions)
    .set({ state: "rejected", pendingRequest: null })
    .where(and(eq(schema.decisions.leadId, leadId), eq(schema.decisions.state, "pending_approval")))
    .returning({
      requestId: schema.decisions.requestId,
      segment: schema.decisions.segment,
      variantId: schema.decisions.variantId,
    });
  for (const d of withdrawn)
    await announceResolved(tx, { ...d, leadId, resolution: "withdrawn", ...why });
  return withdrawn.length;
}
