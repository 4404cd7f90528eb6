/**
 * Webhook bodies → topic envelopes. Pure functions: the event id is derived
 * from the `webhook-id`, so a delivery that slips past dedupe (two replicas
 * racing) still carries the same id and consumers' inboxes drop the copy.
 */
import {
  type AnyEnvelope,
  envelope,
  fieldNumber,
  fieldString,
  type LeadProfilePatch,
  type LightfieldObjectType,
  type LightfieldRecord,
  Topics,
} from "@pw/events";
import {
  KNOWN_LIGHTFIELD_TYPES,
  KNOWN_OUTCOME_TYPES,
  KNOWN_SIGNAL_TYPES,
  type LightfieldWebhook,
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

export function eventIdFor(webhookId: string): string {
  return `wh_${webhookId}`;
}

const OBJECT_TYPE_BY_NAME: Record<string, LightfieldObjectType> = {
  account: "accounts",
  contact: "contacts",
  opportunity: "opportunities",
  meeting: "meetings",
  task: "tasks",
  note: "notes",
};

/** A contact is a lead; other objects belong to the contact(s) they relate to. */
function leadIdFor(objectType: string, record: LightfieldRecord): string | undefined {
  if (objectType === "contacts") return `lf_${record.id}`;
  for (const rel of ["$contact", "$contacts", "$primaryContact", "$attendees"]) {
    const id = record.relationships[rel]?.ids[0];
    if (id) return `lf_${id}`;
  }
  if (objectType === "accounts") return `lf_account_${record.id}`;
  return undefined;
}

/** What a Lightfield record says about the lead, and nothing it does not say. */
export function profileFromRecord(objectType: string, record: LightfieldRecord): LeadProfilePatch {
  const p: LeadProfilePatch = {};
  const set = <K extends keyof LeadProfilePatch>(k: K, v: LeadProfilePatch[K] | undefined) => {
    if (v !== undefined) p[k] = v;
  };
  if (objectType === "contacts") {
    const name = record.fields.$name?.value;
    if (name && typeof name === "object" && !Array.isArray(name)) {
      const n = name as Record<string, unknown>;
      if (typeof n.firstName === "string") set("firstName", n.firstName);
      if (typeof n.lastName === "string") set("lastName", n.lastName);
    } else if (typeof name === "string") {
      const [first, ...rest] = name.trim().split(/\s+/);
      set("firstName", first);
      if (rest.length) set("lastName", rest.join(" "));
    }
    const email = fieldString(record, "$email");
    if (email && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) set("email", email.toLowerCase());
    set("title", fieldString(record, "$title") ?? fieldString(record, "$jobTitle"));
    set("timezone", fieldString(record, "$timezone"));
    set("country", fieldString(record, "$country"));
    set("stage", fieldString(record, "$lifecycleStage") ?? fieldString(record, "$stage"));
    const consent = record.fields.$marketingConsent?.value;
    if (typeof consent === "boolean") set("consent", consent);
    set("accountId", record.relationships.$account?.ids[0]);
  }
  if (objectType === "accounts") {
    set("company", fieldString(record, "$name"));
    const domain = fieldString(record, "$domain") ?? fieldString(record, "$website");
    set("domain", domain?.replace(/^https?:\/\//, "").replace(/\/.*$/, ""));
    set("industry", fieldString(record, "$industry"));
    const employees = fieldNumber(record, "$employeeCount") ?? fieldNumber(record, "$headcount");
    if (employees !== undefined) set("employees", Math.round(employees));
    set("country", fieldString(record, "$country"));
    set("accountId", record.id);
  }
  if (objectType === "opportunities") {
    set("stage", fieldString(record, "$stage"));
    set("accountId", record.relationships.$account?.ids[0]);
  }
  return p;
}

export function normalizeLightfield(
  body: LightfieldWebhook,
  webhookId: string,
  source: "lightfield_webhook" | "lightfield_poller" = "lightfield_webhook",
): Normalized {
  const id = eventIdFor(webhookId);
  const [objectName, operation] = body.type.split(".");
  const known = KNOWN_LIGHTFIELD_TYPES.has(body.type);
  if (!known || !body.object) {
    if (known) throw new NormalizeError("object", `required for ${body.type}`);
    const leadId = body.object
      ? leadIdFor(OBJECT_TYPE_BY_NAME[objectName ?? ""] ?? "", body.object)
      : undefined;
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
          raw: body,
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
        record: body.object,
        ...(body.diff ? { diff: body.diff } : {}),
        profile: profileFromRecord(objectType, body.object),
      },
    }),
  };
}

export function normalizeSignal(body: SignalWebhook, webhookId: string): Normalized {
  const id = eventIdFor(webhookId);
  const leadId = body.leadId ?? (body.email ? `email:${body.email.toLowerCase()}` : undefined);
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
          raw: body,
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

export function normalizeOutcome(body: OutcomeWebhook, webhookId: string): Normalized {
  const id = eventIdFor(webhookId);
  if (!KNOWN_OUTCOME_TYPES.has(body.type)) {
    return {
      topic: Topics.outreachOutcomes,
      event: envelope({
        id,
        type: "outreach.unknown_outcome.v1",
        source: SOURCE,
        subject: body.leadId,
        data: { originalType: body.type, occurredAt: body.occurredAt, raw: body },
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
