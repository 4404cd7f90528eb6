/**
 * Learning from what happened to a request: the reward outcome inside the
 * attribution window counts as a success, once; `settleExpired` counts requests
 * whose window closed without it as failures, once; a request dispatch skipped or
 * failed is withdrawn (never seen, so neither a send nor a failure); bounces,
 * opt-outs and objections are guardrail evidence, and an opt-out puts the lead on
 * the do-not-contact list and announces it on `lead.consent.v1` (same transaction).
 * Guardrails are sequential tests: each bounce, opt-out, objection or withdrawn send
 * re-tests the arm (guardrails.ts) and a breach pauses it in the same transaction,
 * announced with its reason (and its segment blocked, if nothing else may send there).
 * Every posterior change is an atomic SQL increment.
 */
import { recentStep } from "@pw/bandit";
import { type Executor, markProcessed } from "@pw/db";
import * as schema from "@pw/db/experiments";
import type { OutreachDispatched, OutreachOutcome } from "@pw/events";
import { countMetric, startEventSpan } from "@pw/telemetry";
import { and, desc, eq, gte, isNull, lt, sql } from "drizzle-orm";
import { withdrawHeld } from "./approvals.ts";
import type { EngineContext } from "./context.ts";
import { armEvidence, guardrailBreach, guardrailReason } from "./guardrails.ts";
import type { ReplyIntent } from "./intent.ts";
import { publishOptOut, publishSettlements, statusChanged } from "./publish.ts";
import { reconcileSegments } from "./segments.ts";
import type { Reward } from "./settings.ts";
import { CONSUMER } from "./store.ts";

/** Whether an outcome (and a reply's intent) is the campaign's reward. */
export function isReward(kind: string, intent: ReplyIntent | undefined, reward: Reward): boolean {
  if (kind !== "replied") return kind === reward;
  if (reward === "replied") return intent === "positive" || intent === "neutral";
  return reward === "positive_reply" && intent === "positive";
}

export function learningBuilder(ctx: EngineContext) {
  const { db, now, windowMs } = ctx;
  const { reward, guardrails: guard } = ctx.settings;

  /**
   * The recent window's columns after these closed sends, as `observeRecent` computes
   * them (one atomic update with the closed counts); nothing when change detection is off.
   */
  function recentAfter(successes: number, failures: number) {
    if (!ctx.change) return {};
    const { keep, each } = recentStep(successes + failures, ctx.change);
    return {
      recentSuccesses: sql`${schema.arms.recentSuccesses} * ${keep} + ${successes * each}`,
      recentFailures: sql`${schema.arms.recentFailures} * ${keep} + ${failures * each}`,
    };
  }

  /**
   * Pauses the arm when its evidence, as just updated in this transaction (its row is
   * locked by that update), breaks a guardrail — announced with the reason and, if it was
   * the segment's last variant that could send, the segment blocked, all before commit.
   */
  async function pauseOnBreach(tx: Executor, arm: typeof schema.arms.$inferSelect) {
    if (arm.status !== "active") return;
    const breach = guardrailBreach(armEvidence(arm), guard);
    if (!breach) return;
    const reason = guardrailReason(arm, breach);
    const at = now();
    const paused = await tx
      .update(schema.arms)
      .set({ status: "paused", statusReason: reason, updatedAt: at })
      .where(
        and(
          eq(schema.arms.segment, arm.segment),
          eq(schema.arms.variantId, arm.variantId),
          eq(schema.arms.status, "active"),
        ),
      )
      .returning({ segment: schema.arms.segment });
    if (paused.length === 0) return;
    const { segment, variantId } = arm;
    await statusChanged(tx, {
      segment,
      variantId,
      from: "active",
      to: "paused",
      reason,
      by: "engine",
      at,
    });
    await reconcileSegments(tx, [segment], at);
  }

  async function handleOutcome(
    event: OutreachOutcome,
  ): Promise<"rewarded" | "guardrail" | "ignored" | "duplicate"> {
    // Classified before the transaction: a slow vendor must not hold locks.
    const intent =
      event.type === "outreach.outcome.v1" && event.data.outcome === "replied"
        ? (await ctx.intent.classify(event.data.replyText)).intent
        : undefined;
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, event.id)))
        return "duplicate";
      if (event.type !== "outreach.outcome.v1") return "ignored";
      const kind = event.data.outcome;
      const optOut = kind === "unsubscribed" || intent === "unsubscribe_request";
      if (optOut) {
        const reason = kind === "unsubscribed" ? "unsubscribed" : "asked in a reply";
        const listed = await tx
          .insert(schema.doNotContact)
          .values({ leadId: event.subject, reason, at: now() })
          .onConflictDoNothing()
          .returning({ leadId: schema.doNotContact.leadId });
        // Announced once, when the lead joins the list: dispatch must stop every send.
        if (listed.length > 0)
          await publishOptOut(tx, event.subject, {
            source: kind === "unsubscribed" ? "unsubscribe_link" : "reply_text",
            reason,
            requestId: event.data.requestId,
            at: new Date(event.data.occurredAt),
            causeId: event.id,
          });
        // A decision still waiting for approval must not be sent after an opt-out.
        await withdrawHeld(tx, event.subject, {
          by: "engine",
          reason: `the lead opted out (${reason})`,
          at: now(),
        });
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
      // The outcome arrives on a trace of its own (the provider's webhook): it is recorded
      // in the journey's trace too, under the decision, linked to the webhook's.
      startEventSpan({
        name: "outreach.outcome",
        op: "function",
        traceparent: decision.traceparent ?? undefined,
        link: event.traceparent,
        attributes: () => ({
          "pw.service": "experiments",
          "lead.id": event.subject,
          "request.id": decision.requestId,
          outcome: kind,
          intent,
          segment: decision.segment,
          variant: decision.variantId,
          "messaging.message.id": event.id,
        }),
      }).end();
      // Outcomes of the engine's sends, by segment and variant (replies by their intent).
      countMetric("pw.outcomes", 1, {
        outcome: kind,
        ...(intent ? { intent } : {}),
        segment: decision.segment,
        variant: decision.variantId,
      });
      const armWhere = and(
        eq(schema.arms.segment, decision.segment),
        eq(schema.arms.variantId, decision.variantId),
      );
      // Guardrail evidence counts whatever the conversions.
      const hardBounce = kind === "bounced" && event.data.bounceType !== "soft";
      if (hardBounce || optOut || intent === "objection") {
        const [arm] = await tx
          .update(schema.arms)
          .set(
            hardBounce
              ? {
                  bounces: sql`${schema.arms.bounces} + 1`,
                  recentBounces: sql`${schema.arms.recentBounces} + 1`,
                }
              : optOut
                ? {
                    unsubscribes: sql`${schema.arms.unsubscribes} + 1`,
                    recentUnsubscribes: sql`${schema.arms.recentUnsubscribes} + 1`,
                  }
                : {
                    negativeReplies: sql`${schema.arms.negativeReplies} + 1`,
                    recentNegativeReplies: sql`${schema.arms.recentNegativeReplies} + 1`,
                  },
          )
          .where(armWhere)
          .returning();
        // The sequential test: this outcome may be the one that makes the pause sure.
        if (arm) await pauseOnBreach(tx, arm);
        return "guardrail";
      }
      // An out-of-office is not an answer: the window stays open.
      if (intent === "out_of_office") return "ignored";
      if (!isReward(kind, intent, reward)) return "ignored";
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
      countMetric("pw.rewards", 1, {
        reward,
        segment: decision.segment,
        variant: decision.variantId,
      });
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
      const [arm] = await tx
        .update(schema.arms)
        .set({
          exposures: sql`greatest(${schema.arms.exposures} - 1, 0)`,
          recentSends: sql`greatest(${schema.arms.recentSends} - 1, 0)`,
          updatedAt: now(),
        })
        .where(and(eq(schema.arms.segment, w.segment), eq(schema.arms.variantId, w.variantId)))
        .returning();
      // One send fewer raises every rate: the same test as after a bounce.
      if (arm) await pauseOnBreach(tx, arm);
      return "withdrawn";
    });
  }

  /**
   * Every request whose window has closed, rewarded or not, is final: counted once into
   * its arm's closed counts and recent window, which change detection compares (a reward
   * arrives early, a failure at the close: counted as they arrive, a ramp-up of traffic
   * would look like a change).
   */
  async function closeWindows(tx: Executor) {
    const at = now();
    const closed = await tx
      .update(schema.decisions)
      .set({ closedAt: at })
      .where(
        and(
          eq(schema.decisions.state, "requested"),
          isNull(schema.decisions.closedAt),
          lt(schema.decisions.requestedAt, new Date(at.getTime() - windowMs)),
        ),
      )
      .returning({
        requestId: schema.decisions.requestId,
        leadId: schema.decisions.leadId,
        segment: schema.decisions.segment,
        variantId: schema.decisions.variantId,
        rewarded: schema.decisions.rewarded,
        requestedAt: schema.decisions.requestedAt,
        scoredEventId: schema.decisions.scoredEventId,
      });
    // Scoring's labels: in the transaction that makes the outcome final (ADR 0017).
    await publishSettlements(
      tx,
      closed.map((c) => ({
        requestId: c.requestId,
        leadId: c.leadId,
        segment: c.segment,
        variantId: c.variantId,
        ...(c.scoredEventId ? { scoredEventId: c.scoredEventId } : {}),
        reward,
        rewarded: c.rewarded === true,
        requestedAt: (c.requestedAt ?? at).toISOString(),
        closedAt: at.toISOString(),
      })),
      at,
    );
    const perArm = new Map<string, { segment: string; variantId: string; s: number; f: number }>();
    for (const c of closed) {
      const k = `${c.segment}\u0000${c.variantId}`;
      const arm = perArm.get(k) ?? { segment: c.segment, variantId: c.variantId, s: 0, f: 0 };
      if (c.rewarded) arm.s++;
      else arm.f++;
      perArm.set(k, arm);
    }
    for (const a of perArm.values())
      await tx
        .update(schema.arms)
        .set({
          closedSuccesses: sql`${schema.arms.closedSuccesses} + ${a.s}`,
          closedFailures: sql`${schema.arms.closedFailures} + ${a.f}`,
          ...recentAfter(a.s, a.f),
        })
        .where(and(eq(schema.arms.segment, a.segment), eq(schema.arms.variantId, a.variantId)));
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
      await closeWindows(tx);
      return expired.length;
    });
  }

  return { handleOutcome, handleDispatched, settleExpired };
}
