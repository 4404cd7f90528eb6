import { envelope, type LeadScored, type OutreachOutcome } from "@pw/events";

export function scored(
  leadId: string,
  o: {
    tier?: "hot" | "warm" | "cold";
    segment?: string;
    contactable?: boolean;
    id?: string;
    score?: number;
  } = {},
): LeadScored {
  return envelope({
    ...(o.id ? { id: o.id } : {}),
    type: "lead.scored.v1",
    source: "pw://scoring",
    subject: leadId,
    data: {
      score: o.score ?? (o.tier === "cold" ? 20 : 80),
      tier: o.tier ?? "hot",
      segment: o.segment ?? "exec-mid",
      reasons: [],
      facts: {
        email: `${leadId}@acme.io`,
        firstName: "Ada",
        company: "Acme",
        industry: "SaaS",
        trigger: "viewed pricing",
        painPoint: "slow follow-up",
      },
      model: { scorer: "builtin", version: "builtin-v1" },
      contactable: o.contactable ?? true,
      scoredAt: new Date().toISOString(),
    },
  }) as LeadScored;
}

export function outcome(
  leadId: string,
  kind: string,
  at: Date,
  requestId?: string,
  id?: string,
  extra: { replyText?: string; bounceType?: "hard" | "soft" } = {},
): OutreachOutcome {
  return envelope({
    ...(id ? { id } : {}),
    type: "outreach.outcome.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      outcome: kind,
      occurredAt: at.toISOString(),
      ...(requestId ? { requestId } : {}),
      ...extra,
    },
  }) as OutreachOutcome;
}
