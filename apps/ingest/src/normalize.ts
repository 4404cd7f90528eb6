/**
 * Webhook bodies → topic envelopes. Pure functions: the event id is derived
 * from the route and the `webhook-id`, so a delivery that slips past dedupe (two
 * replicas racing) still carries the same id and consumers' inboxes drop the copy.
 */
import { createHash } from "node:crypto";
import { domainToASCII } from "node:url";
import { type AnyEnvelope, envelope, LeadId, type LightfieldRecord, Topics } from "@pw/events";
import {
  canonicalRecord,
  profileFromRecord,
  relatedIds,
  type SelectLabels,
} from "./lightfield/record.ts";
import {
  KNOWN_LIGHTFIELD_TYPES,
  KNOWN_OUTCOME_TYPES,
  KNOWN_SIGNAL_TYPES,
  type LightfieldWebhook,
  OBJECT_TYPE_BY_NAME,
  type OutcomeWebhook,
  type SignalWebhook,
} from "./wire.ts";

export const SOURCE = "pw://ingest";

export type Normalized = { topic: string; event: AnyEnvelope };

export class NormalizeError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.name = "NormalizeError";
    this.path = path;
  }
}

/** The envelope's limit on `id`. */
const MAX_EVENT_ID = 200;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** `prefix` + `key` when that fits an envelope id, else `prefix` + `sha256:` + the key's hash. */
function fittedId(prefix: string, key: string): string {
  const id = `${prefix}${key}`;
  return id.length <= MAX_EVENT_ID ? id : `${prefix}sha256:${sha256(key)}`;
}

/**
 * The event id of a webhook delivery: one per (route, webhook-id) — the same id on
 * two routes is two messages, a redelivery on the same route is the same event.
 * Readable (`wh_signals_msg_123`) while it fits the envelope's 200 characters; a
 * longer one (webhook-ids may have 200 themselves) is hashed, still deterministic.
 */
export function eventIdFor(route: string, webhookId: string): string {
  return fittedId(`wh_${route}_`, webhookId);
}

/** The event id of a record version the Lightfield poller emits (its receipt key). */
export function pollerEventIdFor(dedupeKey: string): string {
  return fittedId("wh_", dedupeKey);
}

/** An address as a lead is keyed by: NFC, lower case, the domain in ASCII (punycode). */
function canonicalEmail(email: string): string {
  const lower = email.normalize("NFC").toLowerCase();
  const at = lower.lastIndexOf("@");
  const domain = lower.slice(at + 1);
  return `${lower.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

/**
 * The lead id of a signal known only by its e-mail: `email:<address>` when the
 * address makes a valid lead id (most do), else — a UTF-8 local part, `+` and the
 * like, or too long — `email:sha256:<hash of the address>`, which no plain
 * address can spell (a local part has no `:`). Either way, one address one lead.
 */
export function leadIdForEmail(email: string): string {
  const canonical = canonicalEmail(email);
  const plain = `email:${canonical}`;
  return LeadId.safeParse(plain).success ? plain : `email:sha256:${sha256(canonical)}`;
}

/** The API's plural object type of a Lightfield event type (`contact.updated` → `contacts`). */
export function objectTypeOfEvent(type: string): string | undefined {
  return OBJECT_TYPE_BY_NAME[type.split(".")[0] ?? ""];
}

/** A contact is a lead; other objects belong to the contact(s) they relate to. */
function leadIdFor(objectType: string, record: LightfieldRecord): string | undefined {
  if (objectType === "contacts") return `lf_${record.id}`;
  for (const rel of ["$contact", "$contacts", "$primaryContact", "$champion", "$attendees"]) {
    const id = relatedIds(record, rel)[0];
    if (id) return `lf_${id}`;
  }
  if (objectType === "accounts") return `lf_account_${record.id}`;
  return undefined;
}

/** What normalizeLightfield reads: the wire body, and (webhooks) the JSON exactly as posted. */
export type LightfieldInput = LightfieldWebhook & {
  /** The body as posted, forwarded whole when the type is unknown (defaults to `body`). */
  raw?: unknown;
};

/**
 * `id`: the event id (`eventIdFor` for a webhook, `pollerEventIdFor` for the poller).
 * `labels`: SINGLE/MULTI_SELECT option labels from the definitions (the poller's, and the
 * webhook route's when ingest has a Lightfield key); without them option ids are kept.
 */
export function normalizeLightfield(
  body: LightfieldInput,
  id: string,
  source: "lightfield_webhook" | "lightfield_poller" = "lightfield_webhook",
  labels?: SelectLabels,
): Normalized {
  const [objectName, operation] = body.type.split(".");
  const known = KNOWN_LIGHTFIELD_TYPES.has(body.type);
  if (!known || !body.object) {
    if (known) throw new NormalizeError("object", `required for ${body.type}`);
    const leadId = body.object
      ? leadIdFor(OBJECT_TYPE_BY_NAME[objectName ?? ""] ?? "", body.object)
      : undefined;
    const { raw, ...wire } = body;
    return {
      topic: Topics.leadEvents,
      event: envelope({
        id,
        type: "lead.unknown_event.v1",
        source: SOURCE,
        subject: leadId ?? `lf_unknown_${body.object?.id ?? "none"}`,
        data: {
          source: "lightfield",
          originalType: body.type,
          occurredAt: body.occurredAt,
          raw: raw ?? wire,
        },
      }),
    };
  }
  const objectType = OBJECT_TYPE_BY_NAME[objectName!]!;
  if (body.objectType && body.objectType !== objectType) {
    throw new NormalizeError(
      "objectType",
      `is "${body.objectType}" but type "${body.type}" is about ${objectType}`,
    );
  }
  const leadId = leadIdFor(objectType, body.object);
  if (!leadId) {
    throw new NormalizeError(
      "object.relationships",
      `a ${objectName} must relate to a contact ($contact) to be about a lead`,
    );
  }
  return {
    topic: Topics.leadEvents,
    event: envelope({
      id,
      type: "lead.crm_record_changed.v1",
      source: SOURCE,
      subject: leadId,
      data: {
        source,
        objectType,
        objectId: body.object.id,
        operation: operation as "created" | "updated" | "deleted",
        occurredAt: body.occurredAt,
        record: canonicalRecord(objectType, body.object, labels),
        ...(body.diff ? { diff: body.diff } : {}),
        ...(body.sourceEventId ? { sourceEventId: body.sourceEventId } : {}),
        profile: profileFromRecord(objectType, body.object, labels),
      },
    }),
  };
}

/** `raw`: the body as posted (an unknown type is forwarded with every field it came with). */
export function normalizeSignal(body: SignalWebhook, id: string, raw: unknown = body): Normalized {
  const leadId = body.leadId ?? (body.email ? leadIdForEmail(body.email) : undefined);
  if (!leadId)
    throw new NormalizeError("leadId", "a signal needs leadId or email to know who it is about");
  if (!KNOWN_SIGNAL_TYPES.has(body.type)) {
    return {
      topic: Topics.leadEvents,
      event: envelope({
        id,
        type: "lead.unknown_event.v1",
        source: SOURCE,
        subject: leadId,
        data: {
          source: "signals",
          originalType: body.type,
          occurredAt: body.occurredAt,
          raw,
        },
      }),
    };
  }
  const profile = {
    ...(body.profile ?? {}),
    ...(body.email ? { email: body.email.toLowerCase() } : {}),
  };
  return {
    topic: Topics.leadEvents,
    event: envelope({
      id,
      type: "lead.intent_signal.v1",
      source: SOURCE,
      subject: leadId,
      data: {
        signal: body.type as "page_viewed",
        occurredAt: body.occurredAt,
        ...(body.url ? { url: body.url } : {}),
        ...(Object.keys(profile).length ? { profile } : {}),
        properties: body.properties ?? {},
      },
    }),
  };
}

/** `raw`: the body as posted (an unknown type is forwarded with every field it came with). */
export function normalizeOutcome(
  body: OutcomeWebhook,
  id: string,
  raw: unknown = body,
): Normalized {
  if (!KNOWN_OUTCOME_TYPES.has(body.type)) {
    return {
      topic: Topics.outreachOutcomes,
      event: envelope({
        id,
        type: "outreach.unknown_outcome.v1",
        source: SOURCE,
        subject: body.leadId,
        data: { originalType: body.type, occurredAt: body.occurredAt, raw },
      }),
    };
  }
  const { type, leadId, ...rest } = body;
  return {
    topic: Topics.outreachOutcomes,
    event: envelope({
      id,
      type: "outreach.outcome.v1",
      source: SOURCE,
      subject: leadId,
      data: { outcome: type as "delivered", ...rest },
    }),
  };
}
