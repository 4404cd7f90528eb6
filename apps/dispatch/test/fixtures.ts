/** Builders for dispatch's tests: requests as the engine sends them, outcomes, signed commands. */
import {
  type commandKeyPair,
  envelope,
  type FollowUpStep,
  type LeadOptedOutV1,
  type OperatorCommand,
  type OutreachOutcome,
  type OutreachRequestedV1,
  signCommand,
} from "@pw/events";

type Key = ReturnType<typeof commandKeyPair>;

let n = 0;

export function request(
  leadId: string,
  o: Partial<OutreachRequestedV1["data"]> & { followUps?: FollowUpStep[] } = {},
): OutreachRequestedV1 {
  n++;
  const requestId = o.requestId ?? `req-${leadId}-${n}`;
  return envelope({
    type: "outreach.requested.v1",
    source: "pw://experiments",
    subject: leadId,
    data: {
      requestId,
      segment: "vp_mid",
      variantId: "pain_point",
      channel: "email",
      // A domain per lead: per-domain caps count only where a test means them to.
      to: `jane@${leadId.replace(/[^a-z0-9]/gi, "").toLowerCase()}.example`,
      subject: `Quick question for ${leadId}`,
      body: `Hi ${leadId}, saw you looked at pricing — worth a chat?`,
      priority: 50,
      cadenceStep: 0,
      track: "experiment",
      explanation: {
        summary: "pain_point leads in vp_mid (p(best) 0.62 after 400 sends).",
        policy: "thompson",
        propensity: 0.62,
        arms: [],
      },
      requestedAt: new Date().toISOString(),
      ...o,
    },
  }) as OutreachRequestedV1;
}

export function followUp(step: number, delayDays: number, leadId: string): FollowUpStep {
  return {
    step,
    delayDays,
    subject: `Re: following up (${step})`,
    body: `Hi ${leadId}, step ${step}.`,
  };
}

export function outcome(
  leadId: string,
  kind: string,
  extra: { requestId?: string; bounceType?: "hard" | "soft"; replyText?: string } = {},
): OutreachOutcome {
  return envelope({
    type: "outreach.outcome.v1",
    source: "pw://ingest",
    subject: leadId,
    data: { outcome: kind, occurredAt: new Date().toISOString(), ...extra },
  }) as OutreachOutcome;
}

export function optedOut(leadId: string, source: LeadOptedOutV1["data"]["source"]): LeadOptedOutV1 {
  return envelope({
    type: "lead.opted_out.v1",
    source: "pw://experiments",
    subject: leadId,
    data: { source, reason: "asked in a reply", at: new Date().toISOString() },
  }) as LeadOptedOutV1;
}

export function command(
  key: Key | undefined,
  type: string,
  data: Record<string, unknown>,
  subject = "operator:global",
): OperatorCommand {
  const c = envelope({
    type,
    source: "pw://gateway",
    subject,
    data: { operator: "ops@acme.io", ...data },
  }) as OperatorCommand;
  return key ? signCommand(c, key.privateKey, key.keyId) : c;
}
