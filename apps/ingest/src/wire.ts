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
 * Lightfield's object-lifecycle event as ingest reads it: `<object>.<created|updated|deleted>`
 * with the object (`fields`, `relationships`), when it happened and the field diff.
 * What workflows and relays actually post is lifted into this shape first
 * (`liftLightfieldBody`): the type from `type`, `trigger`, `objectType` + `change` or
 * `?type=`; the object under `object`/`record` or the body itself; `_diff`/`diff` with
 * `before`/`after` or `from`/`to`; one wrapper (`data`, `payload`, `output`) removed.
 */
export const LightfieldWebhook = z.object({
  type: EventType,
  occurredAt: IsoTime,
  /** The workspace that sent it, when configured. */
  orgId: z.string().max(200).optional(),
  objectType: LightfieldObjectType.optional(),
  object: LightfieldRecord.optional(),
  diff: z.record(z.string().max(100), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
  /** The body's own id (workflow run, relay event), kept for tracing; dedupe is on `webhook-id`. */
  sourceEventId: z.string().min(1).max(200).optional(),
});
export type LightfieldWebhook = z.infer<typeof LightfieldWebhook>;

const WRAPPERS = ["data", "payload", "output"] as const;
const RECORD_KEYS = [
  "id",
  "fields",
  "relationships",
  "createdAt",
  "updatedAt",
  "httpLink",
  "externalId",
];
/** Lightfield's object names, as event types spell them, → the API's plural object types. */
export const OBJECT_TYPE_BY_NAME: Record<string, LightfieldObjectType> = {
  account: "accounts",
  contact: "contacts",
  opportunity: "opportunities",
  meeting: "meetings",
  task: "tasks",
  note: "notes",
};
/** Singular or plural (`contact`, `contacts`) → the object name of event types (`contact`). */
const OBJECT_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(OBJECT_TYPE_BY_NAME).flatMap(([name, type]) => [
    [name, name],
    [type, name],
  ]),
);
/** `contacts` (or `Contact`) → `contact`; undefined for a name Lightfield does not have. */
export const objectNameOf = (objectType: string): string | undefined =>
  OBJECT_NAMES[objectType.toLowerCase()];
const CHANGES: Record<string, string> = {
  create: "created",
  created: "created",
  update: "updated",
  updated: "updated",
  delete: "deleted",
  deleted: "deleted",
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);
const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

/** `contact.updated`, `Contact Updated`, `contacts:update` … → `contact.updated`; else as sent. */
function eventType(object: string, change: string): string | undefined {
  const o = objectNameOf(object);
  const c = CHANGES[change.toLowerCase()];
  return o && c ? `${o}.${c}` : undefined;
}
function typeFromText(t: string): string {
  const m = /^([a-z]+)[\s._:/-]+([a-z]+)$/i.exec(t);
  return (m && eventType(m[1]!, m[2]!)) ?? t;
}

/** `_diff`/`diff`: `{ before: {…}, after: {…} }` or per field `{ key: { before, after } }`. */
function liftDiff(d: unknown): Record<string, { from: unknown; to: unknown }> | undefined {
  if (!isObject(d)) return undefined;
  const before = d.before ?? d.from;
  const after = d.after ?? d.to;
  if (
    (isObject(before) || isObject(after)) &&
    Object.keys(d).every((k) => ["before", "after", "from", "to"].includes(k))
  ) {
    const b = isObject(before) ? before : {};
    const a = isObject(after) ? after : {};
    const out: Record<string, { from: unknown; to: unknown }> = {};
    for (const k of new Set([...Object.keys(b), ...Object.keys(a)]))
      out[k] = { from: b[k] ?? null, to: a[k] ?? null };
    return out;
  }
  const out: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, v] of Object.entries(d)) {
    out[k] =
      isObject(v) && ("before" in v || "after" in v || "from" in v || "to" in v)
        ? { from: v.before ?? v.from ?? null, to: v.after ?? v.to ?? null }
        : { from: null, to: v };
  }
  return out;
}

const hasObject = (b: Json) => isObject(b.object) || isObject(b.record) || isObject(b.fields);

export type Lifted = { ok: true; body: Json } | { ok: false; path: string; message: string };

/**
 * What a workflow step or relay posted → the `LightfieldWebhook` shape (validated after).
 * `queryType` is `?type=` from the URL, used when the body does not say.
 */
export function liftLightfieldBody(json: Json, queryType?: string): Lifted {
  let outer: Json = {};
  let b = json;
  if (!hasObject(json)) {
    const key = WRAPPERS.find((k) => isObject(json[k]) && hasObject(json[k] as Json));
    if (key) {
      outer = json;
      b = json[key] as Json;
    }
  }
  const pick = (k: string) => b[k] ?? outer[k];
  const objectName = text(pick("objectType"));
  const change = text(pick("change"));
  const type =
    (text(pick("type")) && typeFromText(text(pick("type"))!)) ??
    (text(pick("trigger")) && typeFromText(text(pick("trigger"))!)) ??
    (objectName && change ? eventType(objectName, change) : undefined) ??
    (queryType ? typeFromText(queryType) : undefined);
  if (!type) {
    return {
      ok: false,
      path: "type",
      message:
        "the event type is missing: say it in the body (`type`, `trigger`, or `objectType` + `change`) or in the URL (`?type=contact.updated`)",
    };
  }
  let object: unknown = isObject(b.object) ? b.object : isObject(b.record) ? b.record : undefined;
  if (!object && isObject(b.fields)) {
    object = Object.fromEntries(Object.entries(b).filter(([k]) => RECORD_KEYS.includes(k)));
  }
  const flat = object !== undefined && object !== b.object && object !== b.record;
  const bodyId = text(pick("eventId")) ?? text(outer.id) ?? (flat ? undefined : text(b.id));
  const objectType = objectName
    ? (OBJECT_TYPE_BY_NAME[objectNameOf(objectName) ?? ""] ?? objectName)
    : undefined;
  const occurredAt = pick("occurredAt") ?? (isObject(object) ? object.occurredAt : undefined);
  const diff = liftDiff(b._diff ?? b.diff ?? outer._diff ?? outer.diff);
  const lifted: Json = { type, occurredAt };
  if (pick("orgId") !== undefined) lifted.orgId = pick("orgId");
  if (objectType !== undefined) lifted.objectType = objectType;
  if (object !== undefined) lifted.object = object;
  if (diff && Object.keys(diff).length) lifted.diff = diff;
  if (bodyId) lifted.sourceEventId = bodyId.slice(0, 200);
  return { ok: true, body: lifted };
}

export const KNOWN_LIGHTFIELD_TYPES = new Set(
  Object.keys(OBJECT_TYPE_BY_NAME).flatMap((o) =>
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
