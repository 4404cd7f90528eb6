/**
 * One lead's decision: the variant chosen by Thompson sampling over the segment's
 * active arms (with its propensity), the request written by the copywriter with
 * its cadence and explanation, and the decision recorded with the state it was
 * chosen in — requested (outbox → outreach.requested.v1) or held for an operator.
 * A decision that cannot be written (a template that does not render, copy too long
 * for a request) fails alone with a DecisionError; the queue sets that lead aside.
 */
import { createHash } from "node:crypto";
import { type ArmState, choose, type Decision } from "@pw/bandit";
import type { Executor } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { OutreachRequested, type PersonalisationFacts } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { announceHeld } from "./approvals.ts";
import type { EngineContext } from "./context.ts";
import { decisionSummary, nurtureSummary, posteriorSummary } from "./explain.ts";
import { render, TemplateError } from "./playbook.ts";
import { outreachRequest, publishRequests } from "./publish.ts";
import {
  consumeCapacity,
  countExposure,
  onDoNotContact,
  type PlaybookRow,
  type QueuedLead,
} from "./store.ts";

/** One lead's decision could not be written; the reason is recorded on its queue row. */
export class DecisionError extends Error {
  readonly variantId: string;
  constructor(variantId: string, message: string) {
    super(message);
    this.name = "DecisionError";
    this.variantId = variantId;
  }
}

/**
 * Builds a request for `variantId` and checks it against the topic's schema, so that
 * what could never be published fails here, for this lead — not in the outbox, where
 * it would fail the whole drain and, the lead being first in line, every drain after it.
 */
async function checked<R extends OutreachRequested>(
  variantId: string,
  build: () => R | Promise<R>,
): Promise<R> {
  let request: R;
  try {
    request = await build();
  } catch (error) {
    if (error instanceof TemplateError) throw new DecisionError(variantId, error.message);
    throw error;
  }
  const valid = OutreachRequested.safeParse(request);
  if (!valid.success) {
    const issue = valid.error.issues[0];
    throw new DecisionError(
      variantId,
      `the request would be invalid at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  return request;
}

/**
 * The lead's IANA time zone for dispatch's quiet hours, when scoring found one this runtime
 * knows, in its canonical spelling (`america/new_york` → `America/New_York`); undefined
 * otherwise — a misspelt zone, or a bare UTC offset (not a zone: no daylight saving) — and
 * dispatch uses its default zone.
 */
export function timeZoneOf(facts: PersonalisationFacts): { timeZone: string } | undefined {
  const zone = facts.timezone?.trim();
  if (!zone || /^[+-]/.test(zone)) return undefined;
  try {
    return {
      timeZone: new Intl.DateTimeFormat(undefined, { timeZone: zone }).resolvedOptions().timeZone,
    };
  } catch {
    return undefined;
  }
}

/** Deterministic: the same scored event can never yield a second, different request. */
export const requestIdFor = (prefix: "req" | "nur", leadId: string, eventId: string) =>
  `${prefix}_${createHash("sha256").update(`${leadId}:${eventId}`).digest("hex").slice(0, 24)}`;

/**
 * The cadence after the first touch, rendered for the lead: per step, the chosen
 * variant's own follow-up if it has one, else the generic one.
 */
export function followUpsFor(
  playbook: PlaybookRow[],
  variantId: string,
  facts: PersonalisationFacts,
) {
  const steps = new Map<number, PlaybookRow>();
  const candidates = playbook
    .filter((v) => !v.retired && v.cadenceStep > 0 && v.track === "experiment")
    .filter((v) => v.parentVariantId === null || v.parentVariantId === variantId)
    .sort((a, b) => a.variantId.localeCompare(b.variantId));
  for (const v of candidates) {
    const current = steps.get(v.cadenceStep);
    if (!current || (current.parentVariantId === null && v.parentVariantId !== null))
      steps.set(v.cadenceStep, v);
  }
  return [...steps.values()]
    .sort((a, b) => a.cadenceStep - b.cadenceStep)
    .map((v) => ({
      step: v.cadenceStep,
      delayDays: v.delayDays,
      subject: render(v.subjectTemplate, facts),
      body: render(v.bodyTemplate, facts),
    }));
}

/**
 * Chooses a variant for the lead from its segment's arms (`pBest` estimated over the
 * active ones) and writes the request: copy, follow-ups, propensity and explanation.
 * Throws a DecisionError when the chosen variant's request cannot be written.
 */
export async function decideFor(
  ctx: EngineContext,
  lead: QueuedLead,
  arms: ArmState[],
  pBest: Map<string, number>,
  playbook: PlaybookRow[],
) {
  const { policy } = ctx;
  const decision = choose(arms, policy, ctx.rng, pBest);
  const variant = playbook.find((v) => v.variantId === decision.armId);
  if (!variant) throw new DecisionError(decision.armId, "the variant is not in the playbook");
  const request = await checked(variant.variantId, () =>
    writeRequest(ctx, lead, decision, variant, arms, pBest, playbook),
  );
  return { decision, request };
}

async function writeRequest(
  ctx: EngineContext,
  lead: QueuedLead,
  decision: Decision,
  variant: PlaybookRow,
  arms: ArmState[],
  pBest: Map<string, number>,
  playbook: PlaybookRow[],
) {
  const { policy } = ctx;
  const { facts } = lead;
  const copy = await ctx.copywriter.write({ leadId: lead.leadId, variant, facts });
  const summaries = arms
    .filter((a) => a.status === "active")
    .map((a) => ({
      variantId: a.id,
      ...posteriorSummary(a, policy),
      pBest: pBest.get(a.id) ?? 0,
      exposures: a.exposures,
    }));
  const chosen = summaries.find((s) => s.variantId === decision.armId)!;
  return outreachRequest(lead, {
    requestId: requestIdFor("req", lead.leadId, lead.eventId),
    segment: lead.segment,
    variantId: decision.armId,
    channel: variant.channel,
    to: lead.email,
    subject: copy.subject,
    body: copy.body,
    priority: Math.round(Math.min(100, lead.score)),
    cadenceStep: 0,
    track: "experiment",
    ...timeZoneOf(facts),
    followUps: followUpsFor(playbook, variant.variantId, facts),
    copy: {
      writer: copy.writer,
      ...(copy.fallbackReason ? { fallbackReason: copy.fallbackReason.slice(0, 500) } : {}),
    },
    explanation: {
      summary: decisionSummary(lead.segment, decision, chosen, policy),
      policy: decision.policy,
      propensity: decision.propensity,
      arms: summaries,
    },
    requestedAt: ctx.now().toISOString(),
  });
}

/**
 * A nurture-track request for a lead that waited too long for capacity (not an
 * experiment arm). Throws a DecisionError when it cannot be written.
 */
export function nurtureRequest(lead: QueuedLead, variant: PlaybookRow, now: Date) {
  return checked(variant.variantId, () => writeNurtureRequest(lead, variant, now));
}

function writeNurtureRequest(lead: QueuedLead, variant: PlaybookRow, now: Date) {
  const { facts } = lead;
  const waitedH = Math.round((now.getTime() - lead.queuedAt.getTime()) / 3_600_000);
  return outreachRequest(lead, {
    requestId: requestIdFor("nur", lead.leadId, lead.eventId),
    segment: lead.segment,
    variantId: variant.variantId,
    channel: variant.channel,
    to: lead.email,
    subject: render(variant.subjectTemplate, facts),
    body: render(variant.bodyTemplate, facts),
    priority: 0,
    cadenceStep: 0,
    track: "nurture",
    ...timeZoneOf(facts),
    explanation: {
      summary: nurtureSummary(waitedH, lead.score),
      policy: "fixed",
      propensity: 1,
      arms: [],
    },
    copy: { writer: "template" },
    requestedAt: now.toISOString(),
  });
}

/** Thrown inside a transaction to roll it back when today's capacity is spent. */
export class CapacitySpent extends Error {}

/**
 * Claims the queued lead (a conditional update: another instance, or a rescore,
 * may have taken it), then records the decision with the arms and policy it was
 * made under and either holds it or spends capacity, counts the send and enqueues
 * the request. Throws CapacitySpent (rolling back the claim) when the day is full.
 */
export async function recordDecision(
  ctx: EngineContext,
  tx: Executor,
  d: {
    lead: QueuedLead;
    decision: Decision;
    request: ReturnType<typeof outreachRequest>;
    arms: ArmState[];
    held: boolean;
    day: string;
  },
): Promise<"taken" | "dnc" | "held" | "requested"> {
  const { lead, decision, request, held } = d;
  const { now } = ctx;
  const claimed = await tx
    .update(schema.queue)
    .set({ status: held ? "pending_approval" : "requested", resolvedAt: now() })
    .where(
      and(
        eq(schema.queue.leadId, lead.leadId),
        eq(schema.queue.status, "queued"),
        eq(schema.queue.eventId, lead.eventId),
      ),
    )
    .returning({ leadId: schema.queue.leadId });
  if (claimed.length === 0) return "taken";
  if (await onDoNotContact(tx, lead.leadId)) {
    await tx
      .update(schema.queue)
      .set({ status: "do_not_contact", note: "on the do-not-contact list" })
      .where(eq(schema.queue.leadId, lead.leadId));
    return "dnc";
  }
  if (!held && !(await consumeCapacity(tx, d.day, ctx.settings.capacity.perDay)))
    throw new CapacitySpent();
  await tx.insert(schema.decisions).values({
    requestId: request.data.requestId,
    leadId: lead.leadId,
    segment: lead.segment,
    variantId: decision.armId,
    policy: decision.policy,
    propensity: decision.propensity,
    // The engine's clock, not the database's: windows are judged on one clock.
    decidedAt: now(),
    state: held ? "pending_approval" : "requested",
    requestedAt: held ? null : now(),
    context: { arms: d.arms, policy: ctx.policy },
    pendingRequest: held ? request : null,
  });
  if (held) {
    await announceHeld(tx, request, lead.facts, now());
    return "held";
  }
  await countExposure(tx, lead.segment, decision.armId, now());
  await publishRequests(tx, [request]);
  return "requested";
}
