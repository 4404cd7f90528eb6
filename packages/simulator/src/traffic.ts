/**
 * The sends of one simulated run and what came of them, on the run's clock (leads: a day
 * is `leadsPerDay` of them): per-arm counters; guardrail pauses by the engine's own
 * sequential test (@pw/bandit), run on each hard bounce, opt-out or objection as it
 * arrives, as the engine runs it on each outcome; segments left with no variant to send;
 * and rewards settling as the engine settles them — a meeting inside the attribution
 * window counts when it arrives, a send without one fails when its window closes. In a
 * world without delays every outcome is known at its send, so a send settles at once
 * (exactly the simulator before v2).
 */
import {
  type ArmState,
  DEFAULT_GUARDRAILS,
  delayCdf,
  type GuardrailCounts,
  type GuardrailLimits,
  type GuardrailMetric,
  guardrailBreach,
  guardrailReason,
  type InFlight,
  type Rng,
  recentGuardrailsAfterSends,
} from "@pw/bandit";
import {
  detailRng,
  drawSend,
  recipientModel,
  type SendOutcome,
  worldHasDelays,
} from "./recipients.ts";
import { TimeQueue } from "./time-queue.ts";
import type { World } from "./world.ts";
import { REPLY_INTENTS, type ReplyIntent } from "./world-outcomes.ts";

export type ClockOptions = {
  /** Leads per simulated day (default 500: one batch a day, as `pnpm sim:engine`). */
  leadsPerDay?: number;
  /** Days after a send within which its meeting counts (default 14, the engine's). */
  attributionDays?: number;
  /** The guardrail limits (default the engine's, `DEFAULT_GUARDRAILS`); false: none. */
  guardrails?: GuardrailLimits | false;
};

export type ArmResult = {
  segment: string;
  variant: string;
  sends: number;
  /** Meetings inside the attribution window (the reward). */
  meetings: number;
  /** Hard bounces, opt-outs (link or reply) and objections that arrived in the window. */
  bounces: number;
  unsubscribes: number;
  negativeReplies: number;
  /** Paused by a guardrail: its sends then, the lead, and the engine's reason. */
  pausedAtSends?: number;
  pausedAtLead?: number;
  reason?: string;
};

/**
 * A segment left with no variant to send (each paused or suppressed; blocked by the pause
 * of its last active one at `atLead`): its leads from then on were not sent.
 */
export type BlockedSegment = { segment: string; atLead: number; unsentLeads: number };

export type OutcomeCounts = Record<
  "delivered" | "opened" | "clicked" | "meetings" | "lateMeetings" | "deals",
  number
> &
  Record<"hardBounces" | "softBounces" | "unsubscribes", number> & {
    replies: Record<ReplyIntent, number>;
  };

type Due = {
  segment: string;
  variant: string;
  metric?: GuardrailMetric;
  reward?: 0 | 1;
  /** The lead it was sent at (settlements). */
  sentAt?: number;
};

/** The guardrail an outcome is evidence for, as the engine counts it (learning.ts). */
export function guardrailMetric(o: SendOutcome): GuardrailMetric | undefined {
  if (o.kind === "bounced") return o.bounceType === "soft" ? undefined : "bounce";
  if (o.kind === "unsubscribed" || o.intent === "unsubscribe_request") return "unsubscribe";
  return o.intent === "objection" ? "negative_reply" : undefined;
}

const COUNTER = {
  bounce: "bounces",
  unsubscribe: "unsubscribes",
  negative_reply: "negativeReplies",
} as const;

export function trafficBook(
  world: World,
  arms: Map<string, ArmState[]>,
  o: ClockOptions & { seed: number; leads: number },
) {
  const recipient = recipientModel(world);
  const instant = !worldHasDelays(world);
  const leadsPerHour = (o.leadsPerDay ?? 500) / 24;
  const windowHours = (o.attributionDays ?? 14) * 24;
  const guard = o.guardrails ?? DEFAULT_GUARDRAILS;
  const key = (segment: string, variant: string) => `${segment}\u0000${variant}`;
  const counters = new Map<string, ArmResult>();
  /** Each arm's guardrail counts over its recent sends (@pw/bandit), as the engine keeps them. */
  const recentGuard = new Map<string, GuardrailCounts>();
  for (const s of world.segments)
    for (const variant of world.variants) {
      const zero = { sends: 0, meetings: 0, bounces: 0, unsubscribes: 0, negativeReplies: 0 };
      counters.set(key(s.name, variant), { segment: s.name, variant, ...zero });
    }
  const counts: OutcomeCounts = {
    ...{ delivered: 0, opened: 0, clicked: 0, meetings: 0, lateMeetings: 0, deals: 0 },
    ...{ hardBounces: 0, softBounces: 0, unsubscribes: 0 },
    replies: Object.fromEntries(REPLY_INTENTS.map((i) => [i, 0])) as Record<ReplyIntent, number>,
  };
  const guardEvents = new TimeQueue<Due & { at: number }>();
  const settlements = new TimeQueue<Due>();
  // Sends in flight per arm and day sent; reward delays (days) once their window closed.
  const flying = new Map<string, Map<number, number>>();
  const closing = new TimeQueue<number>();
  const closures = new TimeQueue<Due>();
  const delayCounts: number[] = [];
  const dayOf = (lead: number) => Math.floor((lead - 1) / (o.leadsPerDay ?? 500));
  const blocked = new Map<string, BlockedSegment>();

  const tally = (x: SendOutcome) => {
    if (x.kind === "replied") counts.replies[x.intent ?? "neutral"]++;
    else if (x.kind === "bounced")
      counts[x.bounceType === "soft" ? "softBounces" : "hardBounces"]++;
    else if (x.kind === "converted") counts.deals++;
    else if (x.kind === "unsubscribed") counts.unsubscribes++;
    else if (x.kind !== "meeting_booked") counts[x.kind]++;
  };

  /** The engine's sequential test on the arm's fresh counters; a breach pauses it. */
  const test = (c: ArmResult, lead: number) => {
    const list = arms.get(c.segment)!;
    const i = list.findIndex((a) => a.id === c.variant);
    if (!guard || list[i]!.status !== "active") return;
    const recent = recentGuard.get(key(c.segment, c.variant));
    const breach = guardrailBreach(
      { exposures: c.sends, ...c, ...(recent ? { recent } : {}) },
      guard,
    );
    if (!breach) return;
    list[i] = { ...list[i]!, status: "paused" };
    c.pausedAtSends = c.sends;
    c.pausedAtLead = lead;
    c.reason = guardrailReason({ segment: c.segment, variantId: c.variant }, breach);
    if (!list.some((a) => a.status === "active") && !blocked.has(c.segment))
      blocked.set(c.segment, { segment: c.segment, atLead: lead, unsentLeads: 0 });
  };

  return {
    /** Guardrail outcomes that arrived by `lead` (before it is decided): counted and tested. */
    advance(lead: number) {
      for (const e of guardEvents.popUntil(lead)) {
        const c = counters.get(key(e.segment, e.variant))!;
        c[COUNTER[e.metric!]]++;
        const recent = recentGuard.get(key(e.segment, e.variant));
        if (recent) recent[COUNTER[e.metric!]]++;
        test(c, Math.ceil(e.at));
      }
    },
    /** Whether some variant of the segment may still be sent. */
    sendable: (segment: string) => arms.get(segment)!.some((a) => a.status === "active"),
    /** A lead of a blocked segment: not sent. */
    unsent(segment: string, lead: number) {
      const b = blocked.get(segment) ?? { segment, atLead: lead, unsentLeads: 0 };
      b.unsentLeads++;
      blocked.set(segment, b);
    },
    /** One send: its outcomes scheduled; the reward (a meeting inside the window) returned. */
    send(segment: string, variant: string, lead: number, rng: Rng): 0 | 1 {
      const outcomes = drawSend(
        recipient(segment, variant, lead, o.leads),
        rng,
        detailRng(o.seed, lead),
      );
      const c = counters.get(key(segment, variant))!;
      c.sends++;
      recentGuard.set(
        key(segment, variant),
        recentGuardrailsAfterSends(recentGuard.get(key(segment, variant)), 1),
      );
      let reward: 0 | 1 = 0;
      let rewardAt = 0;
      for (const x of outcomes) {
        tally(x);
        const inWindow = x.afterHours <= windowHours;
        const metric = guardrailMetric(x);
        const at = lead + x.afterHours * leadsPerHour;
        if (metric && inWindow) guardEvents.push(at, { at, segment, variant, metric });
        if (x.kind !== "meeting_booked") continue;
        if (!inWindow) counts.lateMeetings++;
        else [reward, rewardAt] = [1, x.afterHours];
      }
      c.meetings += reward;
      counts.meetings += reward;
      const settleAt = instant ? lead : lead + (reward ? rewardAt : windowHours) * leadsPerHour;
      settlements.push(settleAt, { segment, variant, reward, sentAt: lead });
      closures.push(instant ? lead : lead + windowHours * leadsPerHour, {
        segment,
        variant,
        reward,
      });
      if (!instant) {
        const byDay = flying.get(key(segment, variant)) ?? new Map<number, number>();
        byDay.set(dayOf(lead), (byDay.get(dayOf(lead)) ?? 0) + 1);
        flying.set(key(segment, variant), byDay);
        if (reward) closing.push(lead + windowHours * leadsPerHour, rewardAt / 24);
      }
      return reward;
    },
    /**
     * The sends settled by `lead`, in order, for the policy's update. With delays, each
     * arm's exposures are first set to its sends less these — the update adds them back —
     * since the engine counts a send when it decides it, not when it settles.
     */
    settled(lead: number): { segment: string; variant: string; reward: 0 | 1 }[] {
      const due = settlements.popUntil(lead).map((e) => ({
        segment: e.segment,
        variant: e.variant,
        reward: e.reward ?? 0,
        sentAt: e.sentAt,
      }));
      if (instant) return due;
      for (const d of due) {
        const byDay = flying.get(key(d.segment, d.variant))!;
        byDay.set(dayOf(d.sentAt!), byDay.get(dayOf(d.sentAt!))! - 1);
      }
      for (const days of closing.popUntil(lead)) {
        const d = Math.floor(days);
        delayCounts[d] = (delayCounts[d] ?? 0) + 1;
      }
      const pending = new Map<string, number>();
      for (const d of due)
        pending.set(key(d.segment, d.variant), (pending.get(key(d.segment, d.variant)) ?? 0) + 1);
      for (const [segment, list] of arms)
        for (const [i, a] of list.entries()) {
          const k = key(segment, a.id);
          list[i] = { ...a, exposures: counters.get(k)!.sends - (pending.get(k) ?? 0) };
        }
      return due;
    },
    /** The sends whose attribution window closed by `lead`, with their final reward. */
    closed(lead: number): { segment: string; variant: string; reward: 0 | 1 }[] {
      return closures
        .popUntil(lead)
        .map((e) => ({ segment: e.segment, variant: e.variant, reward: e.reward ?? 0 }));
    },
    /**
     * Each arm's sends in flight at `lead` by age (days), and F, the learnt share of rewards
     * that arrive within an age (@pw/bandit delay.ts); undefined when nothing is delayed.
     */
    inFlight(lead: number) {
      if (instant) return undefined;
      const perDay = o.leadsPerDay ?? 500;
      const ages = new Map<string, InFlight[]>();
      for (const [k, byDay] of flying)
        ages.set(
          k,
          [...byDay]
            .filter(([, count]) => count > 0)
            .map(([day, count]) => ({ ageDays: (lead - (day + 0.5) * perDay) / perDay, count })),
        );
      return { ages, cdf: delayCdf(delayCounts, windowHours / 24), key };
    },
    /** Per arm and per segment; guardrail outcomes still in flight are counted, not tested. */
    results() {
      for (const e of guardEvents.popUntil(Number.POSITIVE_INFINITY))
        counters.get(key(e.segment, e.variant))![COUNTER[e.metric!]]++;
      return { arms: [...counters.values()], blocked: [...blocked.values()], outcomes: counts };
    },
  };
}
