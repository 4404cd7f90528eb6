// Events as ingest publishes them, for scoring tests and the benchmark.
import { envelope, type LeadEvent, type OutreachOutcome } from "@pw/events";

export function crmEvent(
  leadId: string,
  occurredAt: string,
  profile: Record<string, unknown>,
  id?: string,
): LeadEvent {
  return envelope({
    ...(id ? { id } : {}),
    type: "lead.crm_record_changed.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      source: "lightfield_webhook",
      objectType: "contacts",
      objectId: leadId,
      operation: "updated",
      occurredAt,
      record: { id: leadId, fields: {}, relationships: {} },
      profile,
    },
  }) as LeadEvent;
}

export function signalEvent(
  leadId: string,
  signal: string,
  occurredAt: string,
  id?: string,
): LeadEvent {
  return envelope({
    ...(id ? { id } : {}),
    type: "lead.intent_signal.v1",
    source: "pw://ingest",
    subject: leadId,
    data: { signal, occurredAt, properties: {} },
  }) as LeadEvent;
}

export function outcomeEvent(leadId: string, outcome: string, occurredAt: string): OutreachOutcome {
  return envelope({
    type: "outreach.outcome.v1",
    source: "pw://ingest",
    subject: leadId,
    data: { outcome, occurredAt },
  }) as OutreachOutcome;
}
