/**
 * The experiment engine's decisions and learning, on the database:
 * - a scored, contactable, warm-or-hot lead gets a variant chosen by Thompson
 *   sampling over its segment's active arms (@pw/bandit), rendered with its facts,
 *   recorded with its propensity, and requested (outbox → outreach.requested.v1);
 * - the reward outcome inside the attribution window counts as a success, once;
 *   `settleExpired` counts the decisions whose window closed without it as failures.
 * All posterior changes are atomic SQL increments, so several engine instances in
 * one consumer group never lose or double-count an update; the inbox makes a
 * redelivered event count once.
 */
import { createHash } from "node:crypto";
import {
  type ArmState,
  applySuppression,
  choose,
  DEFAULT_POLICY,
  type PolicyOptions,
  probabilityBest,
  type Rng,
  seededRng,
} from "@pw/bandit";
import { type Db, type Executor, enqueue, markProcessed, schema } from "@pw/db";
import { envelope, type LeadScored, type OutreachOutcome, Topics } from "@pw/events";
import { and, desc, eq, gte, isNull, lt, sql } from "drizzle-orm";
import { KILL_SWITCH, settingEnabled, statusChanged } from "./operator.ts";
import { DEFAULT_PLAYBOOK, render } from "./playbook.ts";

export const CONSUMER = "experiments";
const SOURCE = "pw://experiments";

export type EngineOptions = {
  db: Db;
  /** The outcome that counts as a conversion for the bandit. */
  reward?: "replied" | "meeting_booked" | "converted";
  attributionDays?: number;
  policy?: Partial<PolicyOptions>;
  rng?: Rng;
  now?: () => Date;
};

export async function seedPlaybook(db: Executor): Promise<void> {
  await db.insert(schema.playbook).values(DEFAULT_PLAYBOOK).onConflictDoNothing();
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function engineBuilder(o: EngineOptions) {
  const { db } = o;
  const reward = o.reward ?? "meeting_booked";
  const windowMs = (o.attributionDays ?? 14) * 86_400_000;
  const policy: PolicyOptions = { ...DEFAULT_POLICY, draws: 400, ...o.policy };
  const rng = o.rng ?? seededRng(Date.now() % 2 ** 31);
  const now = o.now ?? (() => new Date());
  /** Consecutive low-P(best) reviews per segment/variant (in memory: a restart starts counting again). */
  const lowChecks = new Map<string, number>();

  async function loadArms(tx: Executor, segment: string): Promise<ArmState[]> {
    const variants = await tx
      .select()
      .from(schema.playbook)
      .where(and(eq(schema.playbook.retired, false), eq(schema.playbook.cadenceStep, 0)));
    if (variants.length > 0) {
      await tx
        .insert(schema.arms)
        .values(variants.map((v) => ({ segment, variantId: v.variantId })))
        .onConflictDoNothing();
    }
    const rows = await tx.select().from(schema.arms).where(eq(schema.arms.segment, segment));
    const live = new Set(variants.map((v) => v.variantId));
    return rows
      .filter((r) => live.has(r.variantId))
      .map((r) => ({
        id: r.variantId,
        successes: r.successes,
        failures: r.failures,
        exposures: r.exposures,
        status: r.status as ArmState["status"],
      }));
  }

  async function handleScored(event: LeadScored): Promise<"requested" | "skipped" | "duplicate"> {
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      const { data } = event;
      if (!data.contactable || data.tier === "cold" || !data.facts.email) return "skipped";
      // Kill switch: no new outreach at all while engaged (the lead is not lost: a later
      // rescore after release is decided normally).
      if (await settingEnabled(tx, KILL_SWITCH)) return "skipped";
      // One first touch per lead per attribution window: a rescore is not a reason to email again.
      const recent = await tx
        .select({ id: schema.decisions.requestId })
        .from(schema.decisions)
        .where(
          and(
            eq(schema.decisions.leadId, event.subject),
            gte(schema.decisions.decidedAt, new Date(now().getTime() - windowMs)),
          ),
        )
        .limit(1);
      if (recent.length > 0) return "skipped";
      const arms = await loadArms(tx, data.segment);
      const active = arms.filter((a) => a.status === "active");
      if (active.length === 0) return "skipped";
      const pBest = probabilityBest(active, policy, rng);
      const decision = choose(arms, policy, rng, pBest);
      const [variant] = await tx
        .select()
        .from(schema.playbook)
        .where(eq(schema.playbook.variantId, decision.armId));
      const requestId = `req_${createHash("sha256").update(`${event.subject}:${event.id}`).digest("hex").slice(0, 24)}`;
      const summaries = active.map((a) => {
        const alpha = policy.prior.alpha + a.successes;
        const betaP = policy.prior.beta + a.failures;
        const mean = alpha / (alpha + betaP);
        const sd = Math.sqrt((alpha * betaP) / ((alpha + betaP) ** 2 * (alpha + betaP + 1)));
        return {
          variantId: a.id,
          mean,
          low: Math.max(0, mean - 1.96 * sd),
          high: Math.min(1, mean + 1.96 * sd),
          pBest: pBest.get(a.id) ?? 0,
          exposures: a.exposures,
        };
      });
      const chosen = summaries.find((s) => s.variantId === decision.armId)!;
      const why =
        decision.policy === "burn_in"
          ? `still exploring: every variant gets ${policy.burnIn} sends before the engine favours one`
          : decision.policy === "floor"
            ? "kept in rotation by the traffic floor so it can still prove itself"
            : `most likely to convert: P(best) ${pct(chosen.pBest)}, posterior ${pct(chosen.mean)} [${pct(chosen.low)}–${pct(chosen.high)}] after ${chosen.exposures} sends`;
      await tx.insert(schema.decisions).values({
        requestId,
        leadId: event.subject,
        segment: data.segment,
        variantId: decision.armId,
        policy: decision.policy,
        propensity: decision.propensity,
        // The engine's clock, not the database's: windows are judged on one clock.
        decidedAt: now(),
      });
      await tx
        .update(schema.arms)
        .set({ exposures: sql`${schema.arms.exposures} + 1`, updatedAt: now() })
        .where(
          and(eq(schema.arms.segment, data.segment), eq(schema.arms.variantId, decision.armId)),
        );
      const request = envelope({
        type: "outreach.requested.v1",
        source: SOURCE,
        subject: event.subject,
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        data: {
          requestId,
          segment: data.segment,
          variantId: decision.armId,
          channel: "email",
          to: data.facts.email,
          subject: render(variant!.subjectTemplate, data.facts),
          body: render(variant!.bodyTemplate, data.facts),
          priority: Math.round(data.score),
          cadenceStep: 0,
          explanation: {
            summary: `Chose "${decision.armId}" for ${data.segment}: ${why}.`,
            policy: decision.policy,
            propensity: decision.propensity,
            arms: summaries,
          },
          requestedAt: now().toISOString(),
        },
      });
      await enqueue(tx, schema.experimentsOutbox, [
        {
          eventId: request.id,
          topic: Topics.outreachRequested,
          key: event.subject,
          payload: request,
        },
      ]);
      return "requested";
    });
  }

  async function handleOutcome(
    event: OutreachOutcome,
  ): Promise<"rewarded" | "ignored" | "duplicate"> {
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      if (event.type !== "outreach.outcome.v1" || event.data.outcome !== reward) return "ignored";
      const since = new Date(new Date(event.data.occurredAt).getTime() - windowMs);
      const where = event.data.requestId
        ? eq(schema.decisions.requestId, event.data.requestId)
        : and(eq(schema.decisions.leadId, event.subject), gte(schema.decisions.decidedAt, since));
      const [decision] = await tx
        .select()
        .from(schema.decisions)
        .where(where)
        .orderBy(desc(schema.decisions.decidedAt))
        .limit(1);
      if (!decision || decision.decidedAt < since) return "ignored";
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
        .where(
          and(
            eq(schema.arms.segment, decision.segment),
            eq(schema.arms.variantId, decision.variantId),
          ),
        );
      return "rewarded";
    });
  }

  /** Decisions whose attribution window closed without the reward count as failures (once). */
  async function settleExpired(): Promise<number> {
    return db.transaction(async (tx) => {
      const expired = await tx
        .update(schema.decisions)
        .set({ settledAt: now(), rewarded: false })
        .where(
          and(
            isNull(schema.decisions.settledAt),
            lt(schema.decisions.decidedAt, new Date(now().getTime() - windowMs)),
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
   * After posteriors move: suppress arms whose P(best) stays under the threshold
   * after enough exposures, announce it, and publish a posterior snapshot per segment.
   */
  async function review(
    opts = { minExposures: 300, threshold: 0.05, consecutiveChecks: 3 },
  ): Promise<string[]> {
    return db.transaction(async (tx) => {
      const rows = await tx.select().from(schema.arms).for("update");
      const segments = [...new Set(rows.map((r) => r.segment))];
      const suppressed: string[] = [];
      for (const segment of segments) {
        const list = rows.filter((r) => r.segment === segment);
        const armStates: ArmState[] = list.map((r) => ({
          id: r.variantId,
          successes: r.successes,
          failures: r.failures,
          exposures: r.exposures,
          status: r.status as ArmState["status"],
          lowChecks: lowChecks.get(`${segment}/${r.variantId}`) ?? 0,
        }));
        const active = armStates.filter((a) => a.status === "active");
        if (active.length < 2) continue;
        const pBest = probabilityBest(active, policy, rng);
        const result = applySuppression(armStates, pBest, opts);
        for (const a of result.arms) lowChecks.set(`${segment}/${a.id}`, a.lowChecks ?? 0);
        for (const variantId of result.suppressed) {
          const reason = `P(best) stayed under ${pct(opts.threshold)} for ${opts.consecutiveChecks} reviews after ${opts.minExposures}+ sends`;
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
          suppressed.push(`${segment}/${variantId}`);
        }
        const snapshot = envelope({
          type: "experiment.posterior_snapshot.v1",
          source: SOURCE,
          subject: `segment:${segment}`,
          data: {
            segment,
            reward: reward === "replied" ? "reply" : reward,
            arms: list.map((r) => {
              const alpha = policy.prior.alpha + r.successes;
              const b = policy.prior.beta + r.failures;
              const mean = alpha / (alpha + b);
              const sd = Math.sqrt((alpha * b) / ((alpha + b) ** 2 * (alpha + b + 1)));
              const status = result.suppressed.includes(r.variantId) ? "suppressed" : r.status;
              return {
                variantId: r.variantId,
                mean,
                low: Math.max(0, mean - 1.96 * sd),
                high: Math.min(1, mean + 1.96 * sd),
                pBest: pBest.get(r.variantId) ?? 0,
                exposures: r.exposures,
                successes: Math.round(r.successes),
                status: status as "active",
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
      return suppressed;
    });
  }

  return { handleScored, handleOutcome, settleExpired, review };
}
export type Engine = ReturnType<typeof engineBuilder>;
