/**
 * A synthetic lead (lead-model.ts) as the `lead.events.v1` envelopes ingest would
 * publish about it, for a harness to put on the bus in front of the scoring service.
 */
import { envelope, type LeadEvent, type LightfieldRecord } from "@pw/events";
import type { SimLead } from "./lead-model.ts";
import type { SignalKind } from "./world-leads.ts";

const SIGNAL_URLS: Partial<Record<SignalKind, string>> = {
  page_viewed: "https://www.example.com/product",
  pricing_viewed: "https://www.example.com/pricing",
  demo_requested: "https://www.example.com/demo",
  trial_started: "https://app.example.com/signup",
};

/**
 * The `lead.events.v1` envelopes that describe a lead at `at`: its CRM contact created
 * (`profile` carries every fact, the company's included, which Lightfield keeps on the
 * account), then one intent signal per signal, `ageDays` before `at`. Ids are
 * deterministic (`<lead id>:contact`, `<lead id>:signal:<n>`), so a replay dedupes.
 * `source` is the envelope's producer (default `pw://sim`).
 */
export function leadEvents(lead: SimLead, opts: { at: Date; source?: string }): LeadEvent[] {
  const source = opts.source ?? "pw://sim";
  const at = opts.at.toISOString();
  const p = lead.profile;
  const accountId = `acct-${lead.recordId}`;
  const fields: LightfieldRecord["fields"] = {
    $name: { value: { firstName: p.firstName, lastName: p.lastName }, valueType: "FULL_NAME" },
    $email: { value: [p.email], valueType: "EMAIL" },
    ...(p.title ? { $title: { value: p.title, valueType: "TEXT" } } : {}),
    $address: { value: { country: p.country }, valueType: "ADDRESS" },
    $timezone: { value: p.timezone, valueType: "TEXT" },
    ...(p.consent === undefined
      ? {}
      : { $marketingConsent: { value: p.consent, valueType: "CHECKBOX" } }),
  };
  const relationships: LightfieldRecord["relationships"] = {
    $account: { cardinality: "has_one", objectType: "accounts", values: [accountId] },
  };
  const contact = envelope({
    id: `${lead.id}:contact`,
    type: "lead.crm_record_changed.v1",
    source,
    subject: lead.id,
    time: at,
    data: {
      source: "lightfield_webhook",
      objectType: "contacts",
      objectId: lead.recordId,
      operation: "created",
      occurredAt: at,
      record: {
        id: lead.recordId,
        fields,
        relationships,
        createdAt: at,
        updatedAt: at,
      },
      profile: { ...p, accountId },
    },
  });
  const signals = lead.signals.map((s, n) => {
    const url = SIGNAL_URLS[s.kind];
    return envelope({
      id: `${lead.id}:signal:${n}`,
      type: "lead.intent_signal.v1",
      source,
      subject: lead.id,
      time: at,
      data: {
        signal: s.kind,
        occurredAt: new Date(opts.at.getTime() - s.ageDays * 86_400_000).toISOString(),
        ...(url ? { url } : {}),
        properties: {},
      },
    });
  });
  return [contact, ...signals];
}
