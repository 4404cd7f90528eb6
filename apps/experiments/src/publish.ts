/**
 * The events the experiments service publishes, built here and written to its
 * outbox inside the caller's transaction (no dual writes): outreach requests, opt-outs
 * on `lead.consent.v1`, on `experiment.updates.v1` variant status changes, segments
 * blocked / unblocked, playbook changes and posterior snapshots (held decisions:
 * approvals.ts), and its confirmations of operator commands on
 * `operator.command_results.v1`.
 */
import { createHash } from "node:crypto";
import type { Executor } from "@pw/db";
import {
  type Channel,
  commandResult,
  type ExperimentUpdate,
  envelope,
  type LeadOptedOutV1,
  type OperatorCommand,
  type OutreachRequested,
  type OutreachRequestedV1,
  type OutreachSettledV1,
  Topics,
  type VariantStatus,
} from "@pw/events";
import { countMetric } from "@pw/telemetry";
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

/**
 * Enqueues an `outreach.settled.v1` per send whose attribution window closed (keyed by
 * lead): the label scoring learns from. One id per request, so a retried close cannot
 * announce a send twice.
 */
export async function publishSettlements(
  tx: Executor,
  settled: (OutreachSettledV1["data"] & { leadId: string })[],
  at: Date,
) {
  if (settled.length === 0) return;
  await outbox.enqueue(
    tx,
    Topics.outreachSettlements,
    settled.map(({ leadId, ...data }) =>
      envelope({
        type: "outreach.settled.v1",
        id: `settled_${data.requestId}`,
        source: SOURCE,
        subject: leadId,
        time: at.toISOString(),
        data,
      }),
    ),
  );
}

/**
 * Enqueues a `lead.opted_out.v1` on `lead.consent.v1` (keyed by lead): the engine put the
 * lead on its do-not-contact list, and dispatch — the last line before a send — must know.
 * Call it only when the list row was newly written, so a redelivery does not announce twice.
 * No channel: the engine's list covers every channel, so the opt-out does too. The id is
 * derived from the event or command that caused it (`causeId`).
 */
export async function publishOptOut(
  tx: Executor,
  leadId: string,
  optOut: {
    source: LeadOptedOutV1["data"]["source"];
    /** Plain words for operators — never a reply's text. */
    reason: string;
    requestId?: string | undefined;
    at: Date;
    causeId: string;
  },
) {
  await outbox.enqueue(tx, Topics.leadConsent, [
    envelope({
      id: `optout_${createHash("sha256").update(`${leadId}\u0000${optOut.causeId}`).digest("hex").slice(0, 32)}`,
      type: "lead.opted_out.v1",
      source: SOURCE,
      subject: leadId,
      data: {
        source: optOut.source,
        reason: optOut.reason.slice(0, 500),
        ...(optOut.requestId ? { requestId: optOut.requestId } : {}),
        at: optOut.at.toISOString(),
      },
    }),
  ]);
}

/** Enqueues events on `experiment.updates.v1`, each keyed by its subject. */
export async function publishUpdates(tx: Executor, events: ExperimentUpdate[]) {
  await outbox.enqueue(tx, Topics.experimentUpdates, events);
}

export async function publishUpdate(tx: Executor, event: ExperimentUpdate) {
  await publishUpdates(tx, [event]);
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
  // Suppressions, guardrail pauses, re-tests and resumes, by who and to what.
  countMetric("pw.variant_status", 1, {
    segment: change.segment,
    variant: change.variantId,
    to: change.to,
    by: change.by,
  });
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

/**
 * Enqueues `experiment.segment_blocked.v1` (nothing may be sent in the segment) or
 * `experiment.segment_unblocked.v1` (it can send again), keyed by segment like the status
 * changes that caused it, so they stay in order behind them.
 */
export async function segmentChanged(
  tx: Executor,
  change:
    | {
        blocked: true;
        segment: string;
        reason: string;
        variants: { variantId: string; status: VariantStatus; reason?: string | undefined }[];
        at: Date;
      }
    | { blocked: false; segment: string; reason: string; active: string[]; at: Date },
) {
  const { segment, reason } = change;
  const at = change.at.toISOString();
  await publishUpdate(
    tx,
    change.blocked
      ? envelope({
          type: "experiment.segment_blocked.v1",
          source: SOURCE,
          subject: `segment:${segment}`,
          data: {
            segment,
            reason,
            variants: change.variants.map((v) => ({
              variantId: v.variantId,
              status: v.status,
              ...(v.reason ? { reason: v.reason.slice(0, 1000) } : {}),
            })),
            at,
          },
        })
      : envelope({
          type: "experiment.segment_unblocked.v1",
          source: SOURCE,
          subject: `segment:${segment}`,
          data: { segment, reason, active: change.active, at },
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

/** This service's answer to an operator command (`operator.command_result.v1`). */
export async function confirmCommand(
  tx: Executor,
  command: OperatorCommand,
  r: { result: "applied" | "refused"; detail: string; reason?: string | undefined },
  at: Date,
) {
  await outbox.enqueue(tx, Topics.operatorCommandResults, [
    commandResult(command, { service: "experiments", ...r, at }),
  ]);
}
