/**
 * One outcome webhook (`/webhooks/outcomes`): what an e-mail provider or the presenter says
 * happened to a lead's message — replied, meeting_booked, converted, unsubscribed, bounced…
 * Its webhook-id is derived from what it says (kind, lead, request, reply text), so posting
 * the same outcome twice is acknowledged once: a lead converts once per request.
 */
import { createHash } from "node:crypto";
import { LeadId, OutcomeKind } from "@pw/events";
import { createDispatcher, deliver } from "./deliver.ts";
import { OUTCOMES_ROUTE } from "./records.ts";
import { DEFAULT_ATTEMPT_TIMEOUT_MS } from "./run.ts";

export type PostOutcomeOptions = {
  ingestUrl: string;
  secret: string;
  leadId: string;
  kind: OutcomeKind;
  /** The outreach request it answers (default: the engine credits the lead's latest decision). */
  requestId?: string;
  /** The reply's text (`replied` only): the engine classifies its intent. */
  text?: string;
  /** When it happened (default now). */
  occurredAt?: Date;
  /** Overrides the derived webhook-id (to post a second, distinct outcome of the same kind). */
  webhookId?: string;
  /** Budget for retries (default 30 s). */
  deadlineMs?: number;
  signal?: AbortSignal;
};

export type OutcomeResult = {
  status: "accepted" | "duplicate" | "rejected" | "undelivered";
  webhookId: string;
  /** The event id ingest published (accepted) or had (duplicate). */
  eventId?: string;
  /** The HTTP status, error code and message of a rejection. */
  httpStatus?: number;
  code?: string;
  message?: string;
  retries: number;
};

const MAX_ID = 200;

/** `seed-outcome_<kind>_<lead>[_<request>][_<text hash>]`, hashed whole when longer than 200. */
export function outcomeWebhookId(
  o: Pick<PostOutcomeOptions, "kind" | "leadId" | "requestId" | "text">,
) {
  const parts = [`seed-outcome_${o.kind}_${o.leadId}`];
  if (o.requestId) parts.push(o.requestId);
  if (o.text !== undefined)
    parts.push(createHash("sha256").update(o.text).digest("hex").slice(0, 12));
  const id = parts.join("_");
  return id.length <= MAX_ID
    ? id
    : `seed-outcome_${o.kind}_sha256_${createHash("sha256").update(id).digest("hex")}`;
}

/** The checks ingest would make, said before sending: a TypeError naming the field. */
function check(o: PostOutcomeOptions) {
  if (!LeadId.safeParse(o.leadId).success)
    throw new TypeError(
      `leadId: "${o.leadId}" is not a lead id (1–200 letters, digits and _ . : @ -)`,
    );
  if (!OutcomeKind.safeParse(o.kind).success)
    throw new TypeError(`kind: "${o.kind}" is not one of ${OutcomeKind.options.join(", ")}`);
  if (o.text !== undefined && o.kind !== "replied")
    throw new TypeError(`text: a reply text goes with kind "replied", not "${o.kind}"`);
}

export async function postOutcome(o: PostOutcomeOptions): Promise<OutcomeResult> {
  check(o);
  const webhookId = o.webhookId ?? outcomeWebhookId(o);
  const body = JSON.stringify({
    type: o.kind,
    occurredAt: (o.occurredAt ?? new Date()).toISOString(),
    leadId: o.leadId,
    ...(o.requestId ? { requestId: o.requestId } : {}),
    ...(o.text !== undefined ? { replyText: o.text } : {}),
  });
  const dispatcher = createDispatcher(1);
  try {
    const r = await deliver(
      {
        ingestUrl: o.ingestUrl,
        secret: o.secret,
        dispatcher,
        deadline: Date.now() + (o.deadlineMs ?? 30_000),
        attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      OUTCOMES_ROUTE,
      webhookId,
      body,
    );
    if (r.kind === "accepted" || r.kind === "duplicate")
      return {
        status: r.kind,
        webhookId,
        ...(r.eventId ? { eventId: r.eventId } : {}),
        retries: r.retries,
      };
    if (r.kind === "rejected")
      return {
        status: "rejected",
        webhookId,
        httpStatus: r.status,
        code: r.code,
        message: r.message,
        retries: r.retries,
      };
    return { status: "undelivered", webhookId, message: r.reason, retries: r.retries };
  } finally {
    await dispatcher.close();
  }
}
