/**
 * Topic `lead.consent.v1` — a lead withdrew consent to be contacted, wherever that was
 * learned: the engine reading "please remove me" in a reply, a one-click unsubscribe, a
 * hard bounce, an operator's do-not-contact. Keyed by lead id. Dispatch (the last line
 * before a send) and anything else that must never contact the lead consume it
 * (docs/adr/0010-consent-and-dispatch.md).
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";

export const OptOutSource = z.enum(["reply_text", "unsubscribe_link", "bounce", "operator"]);
export type OptOutSource = z.infer<typeof OptOutSource>;

export const LeadOptedOutV1 = eventSchema(
  "lead.opted_out.v1",
  z.object({
    source: OptOutSource,
    /** Plain words for operators: "asked in a reply", "hard bounce"… (never the reply text). */
    reason: z.string().min(1).max(500),
    /** The request whose message led to it, when known. */
    requestId: z.string().min(1).max(200).optional(),
    /** Absent: every channel. */
    channel: z.string().max(50).optional(),
    at: IsoTime,
  }),
);
export type LeadOptedOutV1 = z.infer<typeof LeadOptedOutV1>;

export const LeadConsent = z.discriminatedUnion("type", [LeadOptedOutV1]);
export type LeadConsent = z.infer<typeof LeadConsent>;
