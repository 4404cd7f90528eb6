/**
 * The CloudEvents-style envelope every topic shares (id, type, source, time,
 * subject = lead id, traceparent, data). Event `type`s end in a literal version
 * (`….v1`); a breaking change adds `….v2` beside it and never edits v1.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";

/** W3C trace context: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const Traceparent = z
  .string()
  .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, "must be a W3C traceparent");
export type Traceparent = z.infer<typeof Traceparent>;

/** Lead ids are the partition key of every topic; URL-safe so they can appear in paths. */
export const LeadId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:@-]+$/, "may contain only letters, digits and _ . : @ -");
export type LeadId = z.infer<typeof LeadId>;

export const IsoTime = z.iso.datetime({ offset: true });

// RFC 6531 mailbox: a dot-atom local part that may be UTF-8 (no spaces, quotes,
// specials or control characters; no leading, trailing or doubled dot), an
// internationalised domain in Unicode or punycode (labels of letters, digits and
// marks, inner hyphens, at most 63 characters) ending in a letter TLD.
const ATOM = String.raw`[^\s@"(),:;<>\[\]\\.\p{Cc}]+`;
const LABEL = String.raw`[\p{L}\p{N}\p{M}](?:[\p{L}\p{N}\p{M}-]{0,61}[\p{L}\p{N}\p{M}])?`;
const TLD = String.raw`(?:\p{L}[\p{L}\p{M}]+|[Xx][Nn]--[A-Za-z0-9-]+)`;
const MAILBOX = new RegExp(`^(?=[^@]{1,64}@)${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+${TLD}$`, "u");

/**
 * An e-mail address, internationalised ones included (`josé@bücher.de`): at most
 * 254 characters (RFC 5321's path limit), local part at most 64.
 */
export const EmailAddress = z
  .string()
  .max(254, "must be at most 254 characters")
  .regex(MAILBOX, "must be an e-mail address (local@domain)")
  .meta({ format: "idn-email" });
export type EmailAddress = z.infer<typeof EmailAddress>;

/**
 * A link someone may follow or a tool may fetch: `http:` or `https:` only, never
 * `javascript:`, `data:` or `file:`.
 */
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
  .max(2048)
  .meta({ description: "http(s) URL" });
export type HttpUrl = z.infer<typeof HttpUrl>;

const envelopeBase = {
  specversion: z.literal("1.0"),
  /** Globally unique; consumers dedupe on it (inbox). */
  id: z.string().min(1).max(200),
  /** URI-reference of the producer, e.g. `pw://ingest`. */
  source: z.string().min(1).max(200),
  time: IsoTime,
  /** The lead id — also the Kafka message key. */
  subject: LeadId,
  traceparent: Traceparent.optional(),
  datacontenttype: z.literal("application/json").default("application/json"),
};

/** One event type of a topic: a literal `type` (with its version) and its `data`. */
export function eventSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({ ...envelopeBase, type: z.literal(type), data });
}

export type AnyEnvelope = {
  specversion: "1.0";
  id: string;
  source: string;
  time: string;
  subject: string;
  traceparent?: string | undefined;
  datacontenttype: "application/json";
  type: string;
  data: unknown;
};

/** Builds an envelope with a fresh id and the current time (overridable for replay/tests). */
export function envelope<const T extends string, const D>(input: {
  type: T;
  source: string;
  subject: string;
  data: D;
  id?: string;
  time?: string;
  traceparent?: string;
}) {
  return {
    specversion: "1.0" as const,
    id: input.id ?? randomUUID(),
    source: input.source,
    time: input.time ?? new Date().toISOString(),
    subject: input.subject,
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
    datacontenttype: "application/json" as const,
    type: input.type,
    data: input.data,
  };
}

/** The schema version of a type name: `lead.scored.v1` → 1. */
export function typeVersion(type: string): number {
  const match = /\.v(\d+)$/.exec(type);
  return match ? Number(match[1]) : 0;
}
