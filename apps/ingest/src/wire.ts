/**
 * What senders POST to ingest (the wire contract), as zod schemas. The OpenAPI
 * document is generated from these. Each body names its event `type`; a type we
 * do not know yet, from a source we know, is accepted and forwarded raw.
 */
import {
  EmailAddress,
  HttpUrl,
  IntentSignalKind,
  IsoTime,
  LeadId,
  LeadProfilePatch,
  LightfieldObjectType,
  LightfieldRecord,
  OutcomeKind,
} from "@pw/events";
import { z } from "zod";

/** Any `type` we might not know yet: forwarded raw (forward compatibility), never rejected for it. */
const EventType = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z][a-z0-9_.:-]*$/, "lowercase event name like contact.updated");

/**
 * Lightfield's object-lifecycle workflow trigger: `<object>.<created|updated|deleted>`
 * with the object (`fields`, `relationships`), when it happened and the field diff.
 */
export const LightfieldWebhook = z.object({
  type: EventType,
  occurredAt: IsoTime,
  /** The workspace that sent it, when configured. */
  orgId: z.string().max(200).optional(),
  objectType: LightfieldObjectType.optional(),
  object: LightfieldRecord.optional(),
  diff: z.record(z.string().max(100), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
});
export type LightfieldWebhook = z.infer<typeof LightfieldWebhook>;

export const KNOWN_LIGHTFIELD_TYPES = new Set(
  ["account", "contact", "opportunity", "meeting", "task", "note"].flatMap((o) =>
    ["created", "updated", "deleted"].map((op) => `${o}.${op}`),
  ),
);

/** Who the signal is about: our lead id, or an e-mail we key the lead by. */
const LeadRef = {
  leadId: LeadId.optional(),
  email: EmailAddress.optional(),
};

export const SignalWebhook = z.object({
  type: EventType,
  occurredAt: IsoTime,
  ...LeadRef,
  url: HttpUrl.optional(),
  profile: LeadProfilePatch.optional(),
  properties: z
    .record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean()]))
    .optional(),
});
export type SignalWebhook = z.infer<typeof SignalWebhook>;

export const KNOWN_SIGNAL_TYPES = new Set<string>(IntentSignalKind.options);

export const OutcomeWebhook = z.object({
  type: EventType,
  occurredAt: IsoTime,
  leadId: LeadId,
  dispatchId: z.string().min(1).max(200).optional(),
  requestId: z.string().min(1).max(200).optional(),
  variantId: z.string().min(1).max(100).optional(),
  channel: z.string().max(50).optional(),
  replyText: z.string().max(20_000).optional(),
  url: HttpUrl.optional(),
  bounceType: z.enum(["hard", "soft"]).optional(),
});
export type OutcomeWebhook = z.infer<typeof OutcomeWebhook>;

export const KNOWN_OUTCOME_TYPES = new Set<string>(OutcomeKind.options);
