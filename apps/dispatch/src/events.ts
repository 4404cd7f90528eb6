/** What dispatch publishes: `outreach.dispatched.v1`, one event per verdict on a send. */
import * as schema from "@pw/db/dispatch";
import { envelope, type OutreachDispatchedV1, Topics } from "@pw/events";
import { typedOutbox } from "@pw/service";

export const SOURCE = "pw://dispatch";
export const outbox = typedOutbox(schema.dispatchOutbox);
export const DISPATCHED = Topics.outreachDispatched;

type SendRow = typeof schema.sends.$inferSelect;

export type Verdict = {
  status: OutreachDispatchedV1["data"]["status"];
  reason?: string | undefined;
  dispatchId?: string | null | undefined;
  messageId?: string | null | undefined;
  /** sent: when the next step is due; deferred: when it will be tried again. */
  nextAt?: Date | undefined;
};

/**
 * The event of a verdict. Its id is derived from the send and the verdict, so recording
 * the same verdict twice (a retried transaction, a lease taken over) publishes it once.
 */
export function dispatched(
  row: SendRow,
  v: Verdict,
  at: Date,
  provider: "truefoundry" | "local",
): OutreachDispatchedV1 {
  const final = v.status !== "deferred";
  const id = final
    ? `dsp:${row.key}:${v.status}`
    : `dsp:${row.key}:deferred:${row.attempts}:${v.nextAt?.getTime() ?? 0}`;
  return envelope({
    type: "outreach.dispatched.v1",
    source: SOURCE,
    subject: row.leadId,
    id,
    time: at.toISOString(),
    ...(row.traceparent ? { traceparent: row.traceparent } : {}),
    data: {
      requestId: row.requestId,
      ...(v.dispatchId ? { dispatchId: v.dispatchId } : {}),
      variantId: row.variantId,
      channel: row.channel,
      status: v.status,
      ...(v.reason ? { reason: v.reason.slice(0, 500) } : {}),
      provider: {
        name: provider,
        ...(v.messageId ? { messageId: v.messageId.slice(0, 300) } : {}),
      },
      cadenceStep: row.step,
      track: row.track,
      ...(v.nextAt ? { nextStepAt: v.nextAt.toISOString() } : {}),
      attempt: Math.max(1, row.attempts),
      at: at.toISOString(),
    },
  });
}
