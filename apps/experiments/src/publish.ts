/**
 * The events the experiments service publishes, built here and written to its
 * outbox inside the caller's transaction (no dual writes): outreach requests, and
 * on `experiment.updates.v1` variant status changes, playbook changes and
 * posterior snapshots.
 */
import type { Executor } from "@pw/db";
import {
  type Channel,
  type ExperimentUpdate,
  envelope,
  type OutreachRequested,
  type OutreachRequestedV1,
  Topics,
  type VariantStatus,
} from "@pw/events";
import { outbox } from "./outbox.ts";

export const SOURCE = "pw://experiments";

/** An `outreach.requested.v1` for a queued lead. */
export function outreachRequest(
  lead: { leadId: string; traceparent: string | null },
  data: OutreachRequestedV1["data"],
) {
  return envelope({
    type: "outreach.requested.v1",
    source: SOURCE,
    subject: lead.leadId,
    ...(lead.traceparent ? { traceparent: lead.traceparent } : {}),
    data,
  });
}

/** Enqueues outreach requests (keyed by lead, like every outreach topic). */
export async function publishRequests(tx: Executor, requests: OutreachRequested[]) {
  await outbox.enqueue(tx, Topics.outreachRequested, requests);
}

/** Enqueues an event on `experiment.updates.v1`, keyed by its subject. */
export async function publishUpdate(tx: Executor, event: ExperimentUpdate) {
  await outbox.enqueue(tx, Topics.experimentUpdates, [event]);
}

export async function statusChanged(
  tx: Executor,
  change: {
    segment: string;
    variantId: string;
    from: VariantStatus;
    to: VariantStatus;
    reason: string;
    by: "engine" | "operator";
    at: Date;
  },
) {
  await publishUpdate(
    tx,
    envelope({
      type: "experiment.variant_status_changed.v1",
      source: SOURCE,
      subject: `segment:${change.segment}`,
      data: {
        ...change,
        from: change.from,
        to: change.to,
        at: change.at.toISOString(),
      },
    }),
  );
}

export async function playbookChanged(
  tx: Executor,
  change: { variantId: string; channel: Channel; change: "created" | "updated" | "retired" },
  by: string,
  at: Date,
) {
  await publishUpdate(
    tx,
    envelope({
      type: "experiment.playbook_changed.v1",
      source: SOURCE,
      // Keyed by variant, so one variant's changes stay in order. ("segment:*" was refused
      // by the topic's own subject rule; the typed outbox caught it.)
      subject: `playbook:${change.variantId}`,
      data: { ...change, by, at: at.toISOString() },
    }),
  );
}
