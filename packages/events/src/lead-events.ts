/**
 * Topic `lead.events.v1` — normalised CRM lifecycle events and intent signals,
 * produced by ingest (webhooks) and the Lightfield poller. Unknown event types
 * from a known source are forwarded with their raw payload, never dropped.
 */
import { z } from "zod";
import { EmailAddress, eventSchema, HttpUrl, IsoTime } from "./envelope.ts";
import { LightfieldObjectType, LightfieldRecord } from "./lightfield.ts";

/** The lead as the rest of the system sees it; every field optional (partial updates). */
export const LeadProfilePatch = z.object({
  email: EmailAddress.optional(),
  /** Every address the source gave, in its order (`email` is the first valid one). */
  emails: z.array(z.string().max(320)).max(50).optional(),
  /** Telephone numbers the source gave (E.164 from Lightfield), in its order. */
  phones: z.array(z.string().max(64)).max(50).optional(),
  firstName: z.string().max(200).optional(),
  lastName: z.string().max(200).optional(),
  title: z.string().max(300).optional(),
  company: z.string().max(300).optional(),
  domain: z.string().max(253).optional(),
  industry: z.string().max(200).optional(),
  employees: z.number().int().min(0).max(10_000_000).optional(),
  country: z.string().max(100).optional(),
  /** IANA time zone, used for quiet hours. */
  timezone: z.string().max(64).optional(),
  /** Lifecycle stage in the CRM (lead, mql, sql, opportunity, customer…). */
  stage: z.string().max(64).optional(),
  /** Explicit marketing consent; absent means unknown. */
  consent: z.boolean().optional(),
  accountId: z.string().max(200).optional(),
});
export type LeadProfilePatch = z.infer<typeof LeadProfilePatch>;

export const CrmRecordChangedV1 = eventSchema(
  "lead.crm_record_changed.v1",
  z.object({
    source: z.enum(["lightfield_webhook", "lightfield_poller"]),
    objectType: LightfieldObjectType,
    objectId: z.string().min(1).max(200),
    operation: z.enum(["created", "updated", "deleted"]),
    /** When it happened in the CRM; consumers order profile updates by this, not arrival. */
    occurredAt: IsoTime,
    record: LightfieldRecord,
    /** Field-level changes `{ "$title": { from, to } }` when the CRM sent them. */
    diff: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
    /** The id the sender put in the body (a workflow run or relay event), for tracing only: dedupe is on `webhook-id`. */
    sourceEventId: z.string().min(1).max(200).optional(),
    /** The record mapped onto the lead profile (only what this record says). */
    profile: LeadProfilePatch,
  }),
);
export type CrmRecordChangedV1 = z.infer<typeof CrmRecordChangedV1>;

export const IntentSignalKind = z.enum([
  "page_viewed",
  "pricing_viewed",
  "demo_requested",
  "trial_started",
  "form_submitted",
]);
export type IntentSignalKind = z.infer<typeof IntentSignalKind>;

export const IntentSignalV1 = eventSchema(
  "lead.intent_signal.v1",
  z.object({
    signal: IntentSignalKind,
    occurredAt: IsoTime,
    url: HttpUrl.optional(),
    /** Contact details the signal carried (e.g. a form fill). */
    profile: LeadProfilePatch.optional(),
    properties: z
      .record(z.string(), z.union([z.string().max(2000), z.number(), z.boolean()]))
      .default({}),
  }),
);
export type IntentSignalV1 = z.infer<typeof IntentSignalV1>;

/** Forward compatibility: a type we do not understand yet, kept verbatim. */
export const UnknownLeadEventV1 = eventSchema(
  "lead.unknown_event.v1",
  z.object({
    source: z.string().min(1).max(100),
    originalType: z.string().min(1).max(200),
    occurredAt: IsoTime,
    raw: z.unknown(),
  }),
);
export type UnknownLeadEventV1 = z.infer<typeof UnknownLeadEventV1>;

export const LeadEvent = z.discriminatedUnion("type", [
  CrmRecordChangedV1,
  IntentSignalV1,
  UnknownLeadEventV1,
]);
export type LeadEvent = z.infer<typeof LeadEvent>;
