/**
 * One lead's decision, made in memory: the variant chosen by Thompson sampling over the
 * segment's active arms (with its propensity and the arms it was chosen from), and the
 * request written by the copywriter with its cadence and explanation, checked against
 * the topic's schema. A decision that cannot be written (a template that does not
 * render, copy too long for a request) fails alone with a DecisionError; the batch sets
 * that lead aside (batch.ts) and record.ts writes the others.
 */
import { hash } from "node:crypto";
import { type ArmState, choose, type Decision } from "@pw/bandit";
import { OutreachRequested, type PersonalisationFacts } from "@pw/events";
import { countMetric, startEventSpan } from "@pw/telemetry";
import type { EngineContext } from "./context.ts";
import { decisionSummary, nurtureSummary, posteriorSummary } from "./explain.ts";
import { render, TemplateError } from "./playbook.ts";
import { outreachRequest } from "./publish.ts";
import type { PlaybookRow, QueuedLead } from "./store.ts";

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
  `${prefix}_${hash("sha256", `${leadId}:${eventId}`).slice(0, 24)}`;

/** Per playbook read, each variant's cadence steps: a drain renders them for every lead. */
const cadences = new WeakMap<PlaybookRow[], Map<string, PlaybookRow[]>>();

/** Per step, the variant's own follow-up if it has one, else the generic one. */
function cadenceOf(playbook: PlaybookRow[], variantId: string): PlaybookRow[] {
  const byVariant = cadences.get(playbook) ?? new Map<string, PlaybookRow[]>();
  cadences.set(playbook, byVariant);
  const known = byVariant.get(variantId);
  if (known) return known;
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
  const cadence = [...steps.values()].sort((a, b) => a.cadenceStep - b.cadenceStep);
  byVariant.set(variantId, cadence);
  return cadence;
}

/** The cadence after the first touch, rendered for the lead. */
export function followUpsFor(
  playbook: PlaybookRow[],
  variantId: string,
  facts: PersonalisationFacts,
) {
  return cadenceOf(playbook, variantId).map((v) => ({
    step: v.cadenceStep,
    delayDays: v.delayDays,
    subject: render(v.subjectTemplate, facts),
    body: render(v.bodyTemplate, facts),
  }));
}

/** A lead's decision, written and checked, not yet recorded. */
export type Decided = {
  lead: QueuedLead;
  decision: Decision;
  request: OutreachRequested;
  /** The segment's arms as the choice saw them (`decisions.context`). */
  arms: ArmState[];
};

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
): Promise<Decided> {
  const { policy } = ctx;
  const decision = choose(arms, policy, ctx.rng, pBest);
  // A copy: the batch counts this send on the live arms for the leads after it.
  const seen = arms.map((a) => ({ ...a }));
  const variant = playbook.find((v) => v.variantId === decision.armId);
  if (!variant) throw new DecisionError(decision.armId, "the variant is not in the playbook");
  const request = await checked(variant.variantId, () =>
    writeRequest(ctx, lead, decision, variant, seen, pBest, playbook),
  );
  return { lead, decision, request, arms: seen };
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
  // The journey's "variant chosen" step: a span in the lead's trace (the score's span is
  // its parent — the queue kept it), which the request and so dispatch continue from.
  const span = startEventSpan({
    name: "experiment.decide",
    op: "function",
    traceparent: lead.traceparent ?? undefined,
    attributes: {
      "pw.service": "experiments",
      "lead.id": lead.leadId,
      segment: lead.segment,
      variant: decision.armId,
      policy: decision.policy,
      propensity: decision.propensity,
      channel: variant.channel,
    },
  });
  countMetric("pw.decisions", 1, {
    segment: lead.segment,
    variant: decision.armId,
    policy: decision.policy,
  });
  let copy: Awaited<ReturnType<typeof ctx.copywriter.write>>;
  try {
    copy = await ctx.copywriter.write({ leadId: lead.leadId, variant, facts });
  } catch (error) {
    span.end(error);
    throw error;
  }
  span.set({ "copy.writer": copy.writer, "fallback.reason": copy.fallbackReason });
  span.end();
  const summaries = arms
    .filter((a) => a.status === "active")
    .map((a) => ({
      variantId: a.id,
      ...posteriorSummary(a, policy),
      pBest: pBest.get(a.id) ?? 0,
      exposures: a.exposures,
    }));
  const chosen = summaries.find((s) => s.variantId === decision.armId)!;
  return outreachRequest(
    { ...lead, traceparent: span.traceparent ?? lead.traceparent },
    {
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
    },
  );
}

/**
 * A nurture-track request for a lead that waited too long for capacity (not an
 * experiment arm). Throws a DecisionError when it cannot be written.
 */
export function nurtureRequest(
  lead: QueuedLead & { queuedAt: Date },
  variant: PlaybookRow,
  now: Date,
) {
  return checked(variant.variantId, () => writeNurtureRequest(lead, variant, now));
}

function writeNurtureRequest(
  lead: QueuedLead & { queuedAt: Date },
  variant: PlaybookRow,
  now: Date,
) {
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
