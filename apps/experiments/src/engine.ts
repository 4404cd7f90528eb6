/**
 * The experiment engine's decisions and learning, on the database:
 * - a scored, contactable, warm-or-hot lead is queued (`handleScored`); `drain`
 *   decides for the highest-priority queued leads (score, decayed by how long
 *   they waited, operator boosts first) while today's send capacity lasts: a
 *   variant chosen by Thompson sampling over the segment's active arms
 *   (@pw/bandit), written by the copywriter (stackAI rewrite or the template),
 *   recorded with its propensity and the state it was chosen in, and requested
 *   (outbox → outreach.requested.v1) — or held for an operator in approval mode;
 *   leads that wait too long for capacity go to the nurture track instead;
 * - the reward outcome inside the attribution window counts as a success, once;
 *   `settleExpired` counts requests whose window closed without it as failures;
 *   bounces, opt-outs and objections are guardrail evidence (`review` pauses
 *   arms over the limits and suppresses arms that stay unlikely to be best).
 * All posterior changes are atomic SQL increments and the daily capacity is an
 * atomic conditional increment, so several engine instances in one consumer
 * group never lose, double-count or overspend; the inbox makes a redelivered
 * event count once, and claiming a queued lead is a conditional update.
 */
import { createHash } from "node:crypto";
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  DEFAULT_SUPPRESSION,
  type PolicyOptions,
  posterior,
  probabilityBest,
  type Rng,
  type SuppressionOptions,
  seededRng,
} from "@pw/bandit";
import { type Db, type Executor, enqueue, markProcessed, schema } from "@pw/db";
import {
  envelope,
  type LeadScored,
  type OutreachDispatched,
  type OutreachOutcome,
  type OutreachRequestedV1,
  type PersonalisationFacts,
  Topics,
} from "@pw/events";
import { and, asc, desc, eq, gte, isNull, lt, ne, or, sql } from "drizzle-orm";
import { type Copy, type CopyRequest, createCopywriter } from "./copywriter.ts";
import { createIntentClassifier, type ReplyIntent } from "./intent.ts";
import { APPROVAL_MODE, KILL_SWITCH, settingEnabled, statusChanged } from "./operator.ts";
import { DEFAULT_PLAYBOOK, render } from "./playbook.ts";

export const CONSUMER = "experiments";
const SOURCE = "pw://experiments";

export type Reward = "replied" | "positive_reply" | "meeting_booked" | "converted";

export type Guardrails = {
  /** Sends before an arm's rates are judged. */
  minExposures: number;
  bounceRate: number;
  unsubscribeRate: number;
  negativeReplyRate: number;
};

export type CapacitySettings = {
  /** First-touch sends per UTC day across all instances. */
  perDay: number;
  /** A lead still waiting for capacity after this long goes to the nurture track. */
  nurtureAfterHours: number;
  /** Waiting halves a lead's priority every this many hours (recency). */
  agingHalfLifeHours: number;
};

/** Writes the copy of a chosen variant for a lead; never throws (falls back to the template). */
export type Copywriter = { write(req: CopyRequest): Promise<Copy> };

export type IntentClassifier = {
  classify(text: string | undefined): Promise<{ intent: ReplyIntent }>;
};

export type EngineOptions = {
  db: Db;
  /** The outcome that counts as a conversion for the bandit. */
  reward?: Reward;
  /** Rates above which an arm is paused whatever its conversions. */
  guardrails?: Guardrails;
  /** Off (false) for campaigns that forget: a suppressed arm could not come back. */
  suppression?: SuppressionOptions | false;
  /**
   * Evidence half-life for campaigns whose best message may change (drift): every
   * review decays successes and failures by 0.5^(elapsed / half-life). Absent: never.
   */
  evidenceHalfLifeDays?: number;
  capacity?: Partial<CapacitySettings>;
  attributionDays?: number;
  policy?: Partial<PolicyOptions>;
  /**
   * Per-segment priors from every segment's evidence (pooled prior), so a thin
   * segment starts from what the whole has learned. Absent: `policy.prior` for all.
   */
  priors?: (bySegment: Map<string, ArmState[]>) => Map<string, ArmState[]>;
  copywriter?: Copywriter;
  intent?: IntentClassifier;
  rng?: Rng;
  now?: () => Date;
};

export const DEFAULT_GUARDRAILS: Guardrails = {
  minExposures: 100,
  bounceRate: 0.05,
  unsubscribeRate: 0.02,
  negativeReplyRate: 0.08,
};
export const DEFAULT_CAPACITY: CapacitySettings = {
  perDay: 500,
  nurtureAfterHours: 72,
  agingHalfLifeHours: 24,
};

export async function seedPlaybook(db: Executor): Promise<void> {
  await db
    .insert(schema.playbook)
    .values(
      DEFAULT_PLAYBOOK.map((v) => ({
        ...v,
        delayDays: v.delayDays ?? 0,
        parentVariantId: v.parentVariantId ?? null,
        track: v.track ?? "experiment",
      })),
    )
    .onConflictDoNothing();
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const utcDay = (d: Date) => d.toISOString().slice(0, 10);
/** Deterministic: the same scored event can never yield a second, different request. */
const requestIdFor = (prefix: "req" | "nur", leadId: string, eventId: string) =>
  `${prefix}_${createHash("sha256").update(`${leadId}:${eventId}`).digest("hex").slice(0, 24)}`;

/** An `outreach.requested.v1` for a queued lead. */
function outreachRequest(
  lead: { leadId: string; traceparent: string | null },
  data: OutreachRequestedV1["data"],
) {
  return envelope({
    type: "outreach.requested.v1",
    source: SOURCE,
    subject: lead.leadId,
    ...(lead.traceparent ? { traceparent: lead.traceparent } : {}),
    data,
  });
}

/** The outbox row that publishes a request (keyed by lead, like every outreach topic). */
export const requestOutbox = (request: { id: string; subject: string }) => ({
  eventId: request.id,
  topic: Topics.outreachRequested,
  key: request.subject,
  payload: request,
});

/** Thrown inside a transaction to roll it back when today's capacity is spent. */
class CapacitySpent extends Error {}

/**
 * The cadence after the first touch, rendered for the lead: per step, the chosen
 * variant's own follow-up if it has one, else the generic one.
 */
export function followUpsFor(
  playbook: (typeof schema.playbook.$inferSelect)[],
  variantId: string,
  facts: PersonalisationFacts,
) {
  const steps = new Map<number, typeof schema.playbook.$inferSelect>();
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

/** Posterior mean and 95% interval (the arm's pooled prior when it carries one). */
export function posteriorSummary(arm: ArmState, policy: PolicyOptions) {
  const { alpha, beta: b } = posterior(arm, policy);
  const mean = alpha / (alpha + b);
  const sd = Math.sqrt((alpha * b) / ((alpha + b) ** 2 * (alpha + b + 1)));
  return { mean, low: Math.max(0, mean - 1.96 * sd), high: Math.min(1, mean + 1.96 * sd) };
}

/**
 * Today's capacity, atomically: +1 only while under the cap (or always, for an
 * operator's explicit approval). False when spent: the conditional update then
 * touches no row and returns nothing.
 */
export async function consumeCapacity(
  tx: Executor,
  day: string,
  perDay: number,
  force = false,
): Promise<boolean> {
  const rows = await tx
    .insert(schema.sendCapacity)
    .values({ day, used: 1 })
    .onConflictDoUpdate({
      target: schema.sendCapacity.day,
      set: { used: sql`${schema.sendCapacity.used} + 1` },
      ...(force ? {} : { setWhere: lt(schema.sendCapacity.used, perDay) }),
    })
    .returning({ used: schema.sendCapacity.used });
  return rows.length === 1;
}

/** Counts one send on the arm (exposures are sends, not decisions held for approval). */
export async function countExposure(tx: Executor, segment: string, variantId: string, at: Date) {
  await tx
    .update(schema.arms)
    .set({ exposures: sql`${schema.arms.exposures} + 1`, updatedAt: at })
    .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, variantId)));
}

export async function onDoNotContact(tx: Executor, leadId: string): Promise<boolean> {
  const [row] = await tx
    .select({ leadId: schema.doNotContact.leadId })
    .from(schema.doNotContact)
    .where(eq(schema.doNotContact.leadId, leadId));
  return Boolean(row);
}

export function engineBuilder(o: EngineOptions) {
  const { db } = o;
  const reward = o.reward ?? "meeting_booked";
  const guard = o.guardrails ?? DEFAULT_GUARDRAILS;
  const suppression = o.suppression ?? DEFAULT_SUPPRESSION;
  const halfLifeMs = (o.evidenceHalfLifeDays ?? 0) * 86_400_000;
  const capacity: CapacitySettings = { ...DEFAULT_CAPACITY, ...o.capacity };
  const windowMs = (o.attributionDays ?? 14) * 86_400_000;
  const policy: PolicyOptions = { ...DEFAULT_POLICY, draws: 400, ...o.policy };
  const rng = o.rng ?? seededRng(Date.now() % 2 ** 31);
  const now = o.now ?? (() => new Date());
  // Without vendors: the template and the built-in reply rules.
  const copywriter = o.copywriter ?? createCopywriter();
  const intentClassifier: IntentClassifier = o.intent ?? createIntentClassifier();
  /** Consecutive low-P(best) reviews per segment/variant (in memory: a restart starts counting again). */
  const lowChecks = new Map<string, number>();

  /** The live first-touch arms of the experiment track (email: the channel the engine decides for). */
  async function liveVariants(tx: Executor) {
    return tx
      .select()
      .from(schema.playbook)
      .where(
        and(
          eq(schema.playbook.retired, false),
          eq(schema.playbook.cadenceStep, 0),
          eq(schema.playbook.track, "experiment"),
          eq(schema.playbook.channel, "email"),
        ),
      );
  }

  /** Every segment's arms (creating missing ones for `segments`), with pooled priors applied. */
  async function loadArms(tx: Executor, segments: string[]): Promise<Map<string, ArmState[]>> {
    const variants = await liveVariants(tx);
    const missing = segments.flatMap((segment) =>
      variants.map((v) => ({ segment, variantId: v.variantId })),
    );
    if (missing.length > 0) await tx.insert(schema.arms).values(missing).onConflictDoNothing();
    const rows = await tx.select().from(schema.arms);
    const live = new Set(variants.map((v) => v.variantId));
    const bySegment = new Map<string, ArmState[]>();
    for (const r of rows) {
      if (!live.has(r.variantId)) continue;
      const list = bySegment.get(r.segment) ?? [];
      list.push({
        id: r.variantId,
        successes: r.successes,
        failures: r.failures,
        exposures: r.exposures,
        status: r.status as ArmState["status"],
      });
      bySegment.set(r.segment, list);
    }
    for (const list of bySegment.values()) list.sort((a, b) => a.id.localeCompare(b.id));
    return o.priors ? o.priors(bySegment) : bySegment;
  }

  async function handleScored(
    event: LeadScored,
  ): Promise<"queued" | "updated" | "skipped" | "duplicate"> {
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      const { data } = event;
      const leadId = event.subject;
      if (!data.contactable || data.tier === "cold" || !data.facts.email) return "skipped";
      if (await onDoNotContact(tx, leadId)) return "skipped";
      const since = new Date(now().getTime() - windowMs);
      // One first touch per lead per attribution window: a rescore is not a reason to email again.
      const recent = await tx
        .select({ id: schema.decisions.requestId })
        .from(schema.decisions)
        .where(
          and(
            eq(schema.decisions.leadId, leadId),
            ne(schema.decisions.state, "rejected"),
            or(
              eq(schema.decisions.state, "pending_approval"),
              gte(schema.decisions.requestedAt, since),
            ),
          ),
        )
        .limit(1);
      if (recent.length > 0) return "skipped";
      const [existing] = await tx
        .select()
        .from(schema.queue)
        .where(eq(schema.queue.leadId, leadId))
        .for("update");
      const values = {
        leadId,
        eventId: event.id,
        segment: data.segment,
        score: data.score,
        email: data.facts.email,
        facts: data.facts,
        traceparent: event.traceparent ?? null,
      };
      if (existing?.status === "queued") {
        // Still waiting: the newest score and facts decide its place (it keeps its queue time).
        await tx.update(schema.queue).set(values).where(eq(schema.queue.leadId, leadId));
        return "updated";
      }
      if (existing) {
        const resolvedRecently = (existing.resolvedAt ?? existing.queuedAt) >= since;
        // Nurtured leads whose intent rose to hot get another chance at 1:1 outreach;
        // otherwise a lead resolved inside the window (rejected, nurtured) stays resolved.
        const intentRose = existing.status === "nurture" && data.tier === "hot";
        if (resolvedRecently && !intentRose) return "skipped";
      }
      await tx
        .insert(schema.queue)
        .values({ ...values, status: "queued", queuedAt: now() })
        .onConflictDoUpdate({
          target: schema.queue.leadId,
          set: {
            ...values,
            status: "queued",
            queuedAt: now(),
            resolvedAt: null,
            note: null,
            boost: 0,
          },
        });
      return "queued";
    });
  }

  /** Leads waiting longer than `nurtureAfterHours` for capacity go to the nurture track. */
  async function nurtureStale(): Promise<number> {
    const cutoff = new Date(now().getTime() - capacity.nurtureAfterHours * 3_600_000);
    return db.transaction(async (tx) => {
      const [variant] = await tx
        .select()
        .from(schema.playbook)
        .where(
          and(
            eq(schema.playbook.track, "nurture"),
            eq(schema.playbook.retired, false),
            eq(schema.playbook.cadenceStep, 0),
          ),
        )
        .orderBy(asc(schema.playbook.variantId))
        .limit(1);
      // Without a nurture variant the leads keep waiting (visible in the queue) rather than vanish.
      if (!variant) return 0;
      const moved = await tx
        .update(schema.queue)
        .set({
          status: "nurture",
          resolvedAt: now(),
          note: `no send capacity for ${capacity.nurtureAfterHours} h: moved to the nurture track`,
        })
        .where(and(eq(schema.queue.status, "queued"), lt(schema.queue.queuedAt, cutoff)))
        .returning();
      const events = moved.map((q) => {
        const facts = q.facts as PersonalisationFacts;
        const waitedH = Math.round((now().getTime() - q.queuedAt.getTime()) / 3_600_000);
        return requestOutbox(
          outreachRequest(q, {
            requestId: requestIdFor("nur", q.leadId, q.eventId),
            segment: q.segment,
            variantId: variant.variantId,
            channel: variant.channel as "email",
            to: q.email,
            subject: render(variant.subjectTemplate, facts),
            body: render(variant.bodyTemplate, facts),
            priority: 0,
            cadenceStep: 0,
            track: "nurture",
            explanation: {
              summary: `Waited ${waitedH} h without send capacity (score ${Math.round(q.score)}); higher-intent leads went first, so this lead joins the nurture track instead of being dropped.`,
              policy: "fixed",
              propensity: 1,
              arms: [],
            },
            copy: { writer: "template" },
            requestedAt: now().toISOString(),
          }),
        );
      });
      await enqueue(tx, schema.experimentsOutbox, events);
      return moved.length;
    });
  }

  /**
   * Decides for the highest-priority queued leads while today's capacity lasts (or,
   * in approval mode, holds the decisions for an operator). Safe to run on several
   * instances at once: a lead is claimed by a conditional update, capacity by a
   * conditional increment.
   */
  async function drain(maxLeads = 200): Promise<{
    requested: number;
    pendingApproval: number;
    nurtured: number;
    waiting: number;
  }> {
    const result = { requested: 0, pendingApproval: 0, nurtured: 0, waiting: 0 };
    const waiting = async () =>
      (
        await db
          .select({ n: sql<number>`count(*)::int` })
          .from(schema.queue)
          .where(eq(schema.queue.status, "queued"))
      )[0]!.n;
    // Kill switch: nothing new goes out; queued leads wait (they are not lost).
    if (await settingEnabled(db, KILL_SWITCH)) return { ...result, waiting: await waiting() };
    result.nurtured = await nurtureStale();
    const approval = await settingEnabled(db, APPROVAL_MODE);
    const day = utcDay(now());
    const [cap] = await db
      .select()
      .from(schema.sendCapacity)
      .where(eq(schema.sendCapacity.day, day));
    let room = capacity.perDay - (cap?.used ?? 0);
    if (approval) {
      // Held decisions spend capacity when approved: do not hold more than the day can send.
      const [held] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(schema.decisions)
        .where(eq(schema.decisions.state, "pending_approval"));
      room -= held!.n;
    }
    if (room <= 0) return { ...result, waiting: await waiting() };
    const halfLifeS = capacity.agingHalfLifeHours * 3600;
    const candidates = await db
      .select()
      .from(schema.queue)
      .where(eq(schema.queue.status, "queued"))
      .orderBy(
        desc(sql`${schema.queue.boost} > 0`),
        // score × 0.5^(waited / half-life), compared in log space: newer intent wins ties.
        desc(
          sql`ln(greatest(${schema.queue.score}, 1)) + extract(epoch from ${schema.queue.queuedAt}) * ln(2) / ${halfLifeS}`,
        ),
      )
      .limit(Math.min(room, maxLeads));
    if (candidates.length === 0) return result;
    const armsBySegment = await db.transaction((tx) =>
      loadArms(tx, [...new Set(candidates.map((c) => c.segment))]),
    );
    const playbook = await db.select().from(schema.playbook);
    const pBestCache = new Map<string, Map<string, number>>();
    for (const lead of candidates) {
      const arms = armsBySegment.get(lead.segment) ?? [];
      const active = arms.filter((a) => a.status === "active");
      if (active.length === 0) {
        await db
          .update(schema.queue)
          .set({ note: "no active variant in this segment; waiting for an operator" })
          .where(eq(schema.queue.leadId, lead.leadId));
        continue;
      }
      // Posteriors do not move inside a drain (only exposures do), so P(best) is
      // estimated once per segment and reused: every lead of the segment in this drain
      // is chosen, and its propensity logged, from the same estimate.
      const key = `${lead.segment}\u0000${active.map((a) => a.id).join(",")}`;
      const pBest = pBestCache.get(key) ?? probabilityBest(active, policy, rng);
      pBestCache.set(key, pBest);
      const decision = choose(arms, policy, rng, pBest);
      const variant = playbook.find((v) => v.variantId === decision.armId)!;
      const facts = lead.facts as PersonalisationFacts;
      const copy = await copywriter.write({ leadId: lead.leadId, variant, facts });
      const followUps = followUpsFor(playbook, variant.variantId, facts);
      const requestId = requestIdFor("req", lead.leadId, lead.eventId);
      const summaries = active.map((a) => ({
        variantId: a.id,
        ...posteriorSummary(a, policy),
        pBest: pBest.get(a.id) ?? 0,
        exposures: a.exposures,
      }));
      const chosen = summaries.find((s) => s.variantId === decision.armId)!;
      const why =
        decision.policy === "burn_in"
          ? `still exploring: every variant gets ${policy.burnIn} sends before the engine favours one`
          : decision.policy === "floor"
            ? "kept in rotation by the traffic floor so it can still prove itself"
            : `most likely to convert: P(best) ${pct(chosen.pBest)}, posterior ${pct(chosen.mean)} [${pct(chosen.low)}–${pct(chosen.high)}] after ${chosen.exposures} sends`;
      const held = approval;
      const request = outreachRequest(lead, {
        requestId,
        segment: lead.segment,
        variantId: decision.armId,
        channel: variant.channel as "email",
        to: lead.email,
        subject: copy.subject,
        body: copy.body,
        priority: Math.round(Math.min(100, lead.score)),
        cadenceStep: 0,
        track: "experiment",
        followUps,
        copy: {
          writer: copy.writer,
          ...(copy.fallbackReason ? { fallbackReason: copy.fallbackReason.slice(0, 500) } : {}),
        },
        explanation: {
          summary: `Chose "${decision.armId}" for ${lead.segment}: ${why}.`,
          policy: decision.policy,
          propensity: decision.propensity,
          arms: summaries,
        },
        requestedAt: now().toISOString(),
      });
      const outcome = await db
        .transaction(async (tx) => {
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
          if (claimed.length === 0) return "taken" as const; // another instance, or rescored meanwhile
          if (await onDoNotContact(tx, lead.leadId)) {
            await tx
              .update(schema.queue)
              .set({ status: "do_not_contact", note: "on the do-not-contact list" })
              .where(eq(schema.queue.leadId, lead.leadId));
            return "dnc" as const;
          }
          if (!held && !(await consumeCapacity(tx, day, capacity.perDay)))
            throw new CapacitySpent();
          await tx.insert(schema.decisions).values({
            requestId,
            leadId: lead.leadId,
            segment: lead.segment,
            variantId: decision.armId,
            policy: decision.policy,
            propensity: decision.propensity,
            // The engine's clock, not the database's: windows are judged on one clock.
            decidedAt: now(),
            state: held ? "pending_approval" : "requested",
            requestedAt: held ? null : now(),
            context: { arms, policy },
            pendingRequest: held ? request : null,
          });
          if (held) return "held" as const;
          await countExposure(tx, lead.segment, decision.armId, now());
          await enqueue(tx, schema.experimentsOutbox, [requestOutbox(request)]);
          return "requested" as const;
        })
        .catch((error: unknown) => {
          if (error instanceof CapacitySpent) return "spent" as const;
          throw error;
        });
      if (outcome === "spent") break;
      if (outcome === "requested") {
        result.requested++;
        // Later leads in this drain see this send (burn-in counts, floor).
        const arm = arms.find((a) => a.id === decision.armId)!;
        arm.exposures++;
      }
      if (outcome === "held") result.pendingApproval++;
    }
    result.waiting = await waiting();
    return result;
  }

  async function handleOutcome(
    event: OutreachOutcome,
  ): Promise<"rewarded" | "guardrail" | "ignored" | "duplicate"> {
    // Classified before the transaction: a slow vendor must not hold locks.
    const intent =
      event.type === "outreach.outcome.v1" && event.data.outcome === "replied"
        ? (await intentClassifier.classify(event.data.replyText)).intent
        : undefined;
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      if (event.type !== "outreach.outcome.v1") return "ignored";
      const kind = event.data.outcome;
      const optOut = kind === "unsubscribed" || intent === "unsubscribe_request";
      if (optOut) {
        await tx
          .insert(schema.doNotContact)
          .values({
            leadId: event.subject,
            reason: kind === "unsubscribed" ? "unsubscribed" : "asked in a reply",
            at: now(),
          })
          .onConflictDoNothing();
        // A decision still waiting for approval must not be sent after an opt-out.
        await tx
          .update(schema.decisions)
          .set({ state: "rejected", pendingRequest: null })
          .where(
            and(
              eq(schema.decisions.leadId, event.subject),
              eq(schema.decisions.state, "pending_approval"),
            ),
          );
      }
      const since = new Date(new Date(event.data.occurredAt).getTime() - windowMs);
      const where = event.data.requestId
        ? eq(schema.decisions.requestId, event.data.requestId)
        : and(eq(schema.decisions.leadId, event.subject), gte(schema.decisions.requestedAt, since));
      const [decision] = await tx
        .select()
        .from(schema.decisions)
        .where(and(where, eq(schema.decisions.state, "requested")))
        .orderBy(desc(schema.decisions.requestedAt))
        .limit(1);
      if (!decision?.requestedAt || decision.requestedAt < since) return "ignored";
      const armWhere = and(
        eq(schema.arms.segment, decision.segment),
        eq(schema.arms.variantId, decision.variantId),
      );
      // Guardrail evidence counts whatever the conversions.
      const hardBounce = kind === "bounced" && event.data.bounceType !== "soft";
      if (hardBounce || optOut || intent === "objection") {
        await tx
          .update(schema.arms)
          .set(
            hardBounce
              ? { bounces: sql`${schema.arms.bounces} + 1` }
              : optOut
                ? { unsubscribes: sql`${schema.arms.unsubscribes} + 1` }
                : { negativeReplies: sql`${schema.arms.negativeReplies} + 1` },
          )
          .where(armWhere);
        return "guardrail";
      }
      // An out-of-office is not an answer: the window stays open.
      if (intent === "out_of_office") return "ignored";
      const isReward =
        kind === "replied"
          ? reward === "replied"
            ? intent === "positive" || intent === "neutral"
            : reward === "positive_reply" && intent === "positive"
          : kind === reward;
      if (!isReward) return "ignored";
      // Settle once: only the transaction that flips settled_at from null counts the success.
      const settled = await tx
        .update(schema.decisions)
        .set({ settledAt: now(), rewarded: true })
        .where(
          and(
            eq(schema.decisions.requestId, decision.requestId),
            isNull(schema.decisions.settledAt),
          ),
        )
        .returning({ id: schema.decisions.requestId });
      if (settled.length === 0) return "ignored";
      await tx
        .update(schema.arms)
        .set({ successes: sql`${schema.arms.successes} + 1`, updatedAt: now() })
        .where(armWhere);
      return "rewarded";
    });
  }

  /**
   * Dispatch's verdict on a first touch: a request it skipped (policy: quiet hours,
   * opt-out, cap) or that failed for good was never seen by the lead, so it must not
   * count as a send — nor, when its window closes, as a failure.
   */
  async function handleDispatched(
    event: OutreachDispatched,
  ): Promise<"withdrawn" | "ignored" | "duplicate"> {
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      const d = event.data;
      if (d.cadenceStep !== 0 || (d.status !== "skipped" && d.status !== "failed"))
        return "ignored";
      const withdrawn = await tx
        .update(schema.decisions)
        .set({ state: "not_sent" })
        .where(
          and(
            eq(schema.decisions.requestId, d.requestId),
            eq(schema.decisions.state, "requested"),
            isNull(schema.decisions.settledAt),
          ),
        )
        .returning({ segment: schema.decisions.segment, variantId: schema.decisions.variantId });
      if (withdrawn.length === 0) return "ignored";
      const w = withdrawn[0]!;
      await tx
        .update(schema.arms)
        .set({ exposures: sql`greatest(${schema.arms.exposures} - 1, 0)`, updatedAt: now() })
        .where(and(eq(schema.arms.segment, w.segment), eq(schema.arms.variantId, w.variantId)));
      return "withdrawn";
    });
  }

  /** Requests whose attribution window closed without the reward count as failures (once). */
  async function settleExpired(): Promise<number> {
    return db.transaction(async (tx) => {
      const expired = await tx
        .update(schema.decisions)
        .set({ settledAt: now(), rewarded: false })
        .where(
          and(
            eq(schema.decisions.state, "requested"),
            isNull(schema.decisions.settledAt),
            lt(schema.decisions.requestedAt, new Date(now().getTime() - windowMs)),
          ),
        )
        .returning({ segment: schema.decisions.segment, variantId: schema.decisions.variantId });
      const counts = new Map<string, { segment: string; variantId: string; n: number }>();
      for (const e of expired) {
        const k = `${e.segment}\u0000${e.variantId}`;
        counts.set(k, { ...e, n: (counts.get(k)?.n ?? 0) + 1 });
      }
      for (const c of counts.values()) {
        await tx
          .update(schema.arms)
          .set({ failures: sql`${schema.arms.failures} + ${c.n}`, updatedAt: now() })
          .where(and(eq(schema.arms.segment, c.segment), eq(schema.arms.variantId, c.variantId)));
      }
      return expired.length;
    });
  }

  /**
   * After posteriors move: pause arms over a guardrail, suppress arms whose P(best)
   * stays under the threshold after enough exposures, announce each change, and
   * publish a posterior snapshot per segment.
   */
  async function review(): Promise<string[]> {
    return db.transaction(async (tx) => {
      // Lock the rows: two instances reviewing at once see one another's changes in turn.
      await tx.select({ s: schema.arms.segment }).from(schema.arms).for("update");
      if (halfLifeMs > 0) {
        // Forget at a steady rate, by elapsed time: idempotent whoever reviews, however often.
        const factor = sql`power(0.5, greatest(extract(epoch from (${now()}::timestamptz - ${schema.arms.decayedAt})) * 1000, 0) / ${halfLifeMs})`;
        await tx.update(schema.arms).set({
          successes: sql`${schema.arms.successes} * ${factor}`,
          failures: sql`${schema.arms.failures} * ${factor}`,
          decayedAt: now(),
        });
      }
      const rows = await tx.select().from(schema.arms);
      const live = new Set((await liveVariants(tx)).map((v) => v.variantId));
      const bySegment = await loadArms(tx, []);
      const changed: string[] = [];
      for (const [segment, armStates] of bySegment) {
        const list = rows.filter((r) => r.segment === segment && live.has(r.variantId));
        for (const r of list) {
          if (r.status !== "active" || r.exposures < guard.minExposures) continue;
          const rate = (n: number) => n / r.exposures;
          const breach =
            rate(r.bounces) > guard.bounceRate
              ? `bounce rate ${pct(rate(r.bounces))} over the ${pct(guard.bounceRate)} limit`
              : rate(r.unsubscribes) > guard.unsubscribeRate
                ? `unsubscribe rate ${pct(rate(r.unsubscribes))} over the ${pct(guard.unsubscribeRate)} limit`
                : rate(r.negativeReplies) > guard.negativeReplyRate
                  ? `negative-reply rate ${pct(rate(r.negativeReplies))} over the ${pct(guard.negativeReplyRate)} limit`
                  : undefined;
          if (!breach) continue;
          const reason = `guardrail: ${breach} after ${r.exposures} sends`;
          await tx
            .update(schema.arms)
            .set({ status: "paused", statusReason: reason, updatedAt: now() })
            .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, r.variantId)));
          await statusChanged(tx, {
            segment,
            variantId: r.variantId,
            from: "active",
            to: "paused",
            reason,
            by: "engine",
            at: now(),
          });
          r.status = "paused";
          const s = armStates.find((a) => a.id === r.variantId);
          if (s) s.status = "paused";
          changed.push(`${segment}/${r.variantId} (guardrail)`);
        }
        for (const a of armStates) a.lowChecks = lowChecks.get(`${segment}/${a.id}`) ?? 0;
        const active = armStates.filter((a) => a.status === "active");
        const pBest =
          active.length > 0 ? probabilityBest(active, policy, rng) : new Map<string, number>();
        const suppressedNow: string[] = [];
        if (suppression && active.length >= 2) {
          const result = applySuppression(armStates, pBest, suppression);
          for (const a of result.arms) lowChecks.set(`${segment}/${a.id}`, a.lowChecks ?? 0);
          for (const variantId of result.suppressed) {
            const reason = `P(best) stayed under ${pct(suppression.threshold)} for ${suppression.consecutiveChecks} reviews after ${suppression.minExposures}+ sends`;
            await tx
              .update(schema.arms)
              .set({ status: "suppressed", statusReason: reason, updatedAt: now() })
              .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, variantId)));
            await statusChanged(tx, {
              segment,
              variantId,
              from: "active",
              to: "suppressed",
              reason,
              by: "engine",
              at: now(),
            });
            suppressedNow.push(variantId);
            changed.push(`${segment}/${variantId}`);
          }
        }
        const snapshot = envelope({
          type: "experiment.posterior_snapshot.v1",
          source: SOURCE,
          subject: `segment:${segment}`,
          data: {
            segment,
            reward: reward === "replied" ? "reply" : reward,
            arms: armStates.map((a) => {
              const row = list.find((r) => r.variantId === a.id);
              return {
                variantId: a.id,
                ...posteriorSummary(a, policy),
                pBest: pBest.get(a.id) ?? 0,
                exposures: a.exposures,
                successes: Math.round(a.successes),
                status: (suppressedNow.includes(a.id)
                  ? "suppressed"
                  : (row?.status ?? a.status)) as "active",
              };
            }),
            at: now().toISOString(),
          },
        });
        await enqueue(tx, schema.experimentsOutbox, [
          {
            eventId: snapshot.id,
            topic: Topics.experimentUpdates,
            key: snapshot.subject,
            payload: snapshot,
          },
        ]);
      }
      return changed;
    });
  }

  return {
    handleScored,
    drain,
    handleOutcome,
    handleDispatched,
    settleExpired,
    review,
    capacity,
    policy,
  };
}
export type Engine = ReturnType<typeof engineBuilder>;
