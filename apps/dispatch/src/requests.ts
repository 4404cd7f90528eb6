/** `outreach.requested.v1` → one scheduled send per request (its follow-ups ride along). */
import type { OutreachRequested } from "@pw/events";
import { continueTrace } from "@pw/service";
import { recipientDomain } from "./policy.ts";
import type { NewSend } from "./store.ts";

/** The send key: the idempotency key end to end (agent, Lightfield). */
export function sendKey(requestId: string, step: number): string {
  return `${requestId}#${step}`;
}

export function sendOf(event: OutreachRequested, now: Date): NewSend {
  const d = event.data;
  return {
    key: sendKey(d.requestId, d.cadenceStep),
    leadId: event.subject,
    requestId: d.requestId,
    step: d.cadenceStep,
    track: d.track ?? "experiment",
    segment: d.segment,
    variantId: d.variantId,
    channel: d.channel,
    to: d.to,
    domain: recipientDomain(d.channel, d.to) ?? null,
    subject: d.subject,
    body: d.body,
    priority: Math.round(d.priority),
    timeZone: d.timeZone ?? null,
    followUps: (d.followUps ?? [])
      .filter((f) => f.step > d.cadenceStep)
      .sort((a, b) => a.step - b.step),
    why: d.explanation.summary,
    dueAt: now,
    traceparent: continueTrace(event) ?? null,
    createdAt: now,
    updatedAt: now,
  };
}
