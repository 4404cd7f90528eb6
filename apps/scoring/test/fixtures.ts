// Events as ingest publishes them, for scoring tests and the benchmark.
import {
  envelope,
  type LeadEvent,
  type OutreachOutcome,
  type OutreachSettlement,
} from "@pw/events";

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

/** The engine's settlement of a send decided on `scoredEventId` (its label for scoring). */
export function settledEvent(
  leadId: string,
  scoredEventId: string | undefined,
  rewarded: boolean,
  requestedAt: string,
): OutreachSettlement {
  const requestId = `req_${scoredEventId ?? leadId}`;
  return envelope({
    type: "outreach.settled.v1",
    id: `settled_${requestId}`,
    source: "pw://experiments",
    subject: leadId,
    data: {
      requestId,
      segment: "s",
      variantId: "v",
      ...(scoredEventId ? { scoredEventId } : {}),
      reward: "meeting_booked",
      rewarded,
      requestedAt,
      closedAt: requestedAt,
    },
  }) as OutreachSettlement;
}

/**
 * A market that disagrees with the priors: directors at fitting SaaS companies convert 1 in
 * 5, engineers at small retailers 1 in 50 (the priors give them about 60% and 16%).
 * `flip` poisons the labels (a broken integration reporting the opposite).
 */
export function marketLead(i: number, o: { prefix?: string; flip?: boolean } = {}) {
  const director = i % 2 === 0;
  const k = Math.floor(i / 2);
  const converts = director ? k % 5 === 0 : k % 50 === 0;
  return {
    leadId: `${o.prefix ?? "m"}-${i}`,
    profile: director
      ? { title: "Director of Sales", industry: "SaaS", employees: 300 }
      : { title: "Software Engineer", industry: "Retail", employees: 20 },
    rewarded: o.flip ? !converts : converts,
  };
}
