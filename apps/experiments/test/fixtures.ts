// Events as the other services publish them, for the engine's tests.
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import {
  envelope,
  type LeadOptedOutV1,
  type LeadScored,
  type OperatorCommand,
  type OutreachOutcome,
  signCommand,
  Topics,
} from "@pw/events";
import { asc, eq } from "drizzle-orm";

export function scored(
  leadId: string,
  o: {
    tier?: "hot" | "warm" | "cold";
    segment?: string;
    contactable?: boolean;
    id?: string;
    score?: number;
    /** The lead's time zone as scoring found it (any string: the engine checks it). */
    timezone?: string;
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
        ...(o.timezone !== undefined ? { timezone: o.timezone } : {}),
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

/** The `lead.opted_out.v1` events in the engine's outbox, oldest first. */
export async function optOuts(db: Executor) {
  return (
    await db.select().from(schema.experimentsOutbox).orderBy(asc(schema.experimentsOutbox.id))
  )
    .filter((r) => r.topic === Topics.leadConsent)
    .map((r) => r.payload as LeadOptedOutV1);
}

/** An operator command as the gateway would send it, before signing. */
export function operatorCommand(
  type: string,
  data: Record<string, unknown>,
  subject = "operator:global",
  o: { id?: string; time?: string } = {},
): OperatorCommand {
  return envelope({
    type,
    source: "pw://gateway",
    subject,
    data: { operator: "ops@acme.io", ...data },
    ...o,
  }) as OperatorCommand;
}

/** The kill switch, signed with `key` when one is given (unsigned otherwise). */
export function killSwitch(
  engaged: boolean,
  key?: { privateKey: Parameters<typeof signCommand>[1]; keyId: string },
): OperatorCommand {
  const command = operatorCommand("operator.kill_switch.v1", { engaged });
  return key ? signCommand(command, key.privateKey, key.keyId) : command;
}

/**
 * Evidence as if `exposures` sends of each variant had settled at the given conversion
 * rates (every segment), for the suppression tests.
 */
export async function settleEvidence(
  db: Executor,
  rates: Record<string, number>,
  o: { exposures?: number; decayedAt?: Date } = {},
): Promise<void> {
  const n = o.exposures ?? 400;
  for (const [variantId, rate] of Object.entries(rates))
    await db
      .update(schema.arms)
      .set({
        exposures: n,
        successes: n * rate,
        failures: n * (1 - rate),
        ...(o.decayedAt ? { decayedAt: o.decayedAt } : {}),
      })
      .where(eq(schema.arms.variantId, variantId));
}

/** case_study converts far better than the rest; pain_point far worse. */
export const ONE_CLEAR_WINNER: Record<string, number> = {
  pain_point: 0.01,
  social_proof: 0.04,
  roi: 0.04,
  short_question: 0.04,
  case_study: 0.09,
};
