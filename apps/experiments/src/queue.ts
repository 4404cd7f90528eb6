/**
 * The send queue: a scored, contactable, warm-or-hot lead is queued
 * (`handleScored`); `drain` decides for the highest-priority queued leads (score,
 * decayed by how long they waited, operator boosts first) while today's send
 * capacity lasts — or holds the decisions in approval mode — and leads that wait
 * too long for capacity go to the nurture track instead. The candidates are decided as
 * one batch and recorded in one transaction (batch.ts, record.ts; ADR 0016). Safe on
 * several instances at once: leads are claimed by a conditional update, capacity granted
 * by an atomic conditional grant, and the inbox makes a redelivered event count once.
 * A lead whose decision cannot be written (DecisionError: a template that does not
 * render, copy too long for a request) is set aside — `rejected`, the reason in its
 * note — and the drain goes on: one bad template never stops all outreach.
 */
import { markProcessed } from "@pw/db";
import * as schema from "@pw/db/experiments";
import type { LeadScored, OutreachRequested } from "@pw/events";
import { continueTrace } from "@pw/service";
import { and, asc, desc, eq, gte, lt, ne, or, sql } from "drizzle-orm";
import { decideBatch } from "./batch.ts";
import type { EngineContext } from "./context.ts";
import { DecisionError, nurtureRequest } from "./decide.ts";
import { nurtureNote } from "./explain.ts";
import { publishRequests } from "./publish.ts";
import {
  CONSUMER,
  type FailedDecision,
  leadColumns,
  onDoNotContact,
  type QueuedLead,
  setAside,
  utcDay,
} from "./store.ts";
import { APPROVAL_MODE, KILL_SWITCH, settingEnabled } from "./switches.ts";

export function queueBuilder(ctx: EngineContext) {
  const { db, now } = ctx;
  const { capacity } = ctx.settings;
  // An hour of the engine's clock in wall-clock ms (shorter under the demo's clock).
  const hourMs = 3_600_000 / (ctx.settings.clockScale ?? 1);

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
      const since = new Date(now().getTime() - ctx.windowMs);
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
        traceparent: continueTrace(event) ?? null,
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

  /**
   * Leads waiting longer than `nurtureAfterHours` for capacity go to the nurture track
   * (those whose nurture email cannot be written are set aside instead).
   */
  async function nurtureStale(): Promise<{ nurtured: number; failed: FailedDecision[] }> {
    const cutoff = new Date(now().getTime() - capacity.nurtureAfterHours * hourMs);
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
      if (!variant) return { nurtured: 0, failed: [] };
      const moved = await tx
        .update(schema.queue)
        .set({
          status: "nurture",
          resolvedAt: now(),
          note: nurtureNote(capacity.nurtureAfterHours),
        })
        .where(and(eq(schema.queue.status, "queued"), lt(schema.queue.queuedAt, cutoff)))
        .returning();
      const requests: OutreachRequested[] = [];
      const failed: { lead: QueuedLead; variantId: string; reason: string }[] = [];
      for (const lead of moved) {
        try {
          requests.push(await nurtureRequest(lead, variant, now()));
        } catch (error) {
          if (!(error instanceof DecisionError)) throw error;
          failed.push({ lead, variantId: error.variantId, reason: error.message });
        }
      }
      await publishRequests(tx, requests);
      return { nurtured: requests.length, failed: await setAside(tx, failed, now()) };
    });
  }

  const waiting = async () =>
    (
      await db
        .select({ n: sql<number>`count(*)::int` })
        .from(schema.queue)
        .where(eq(schema.queue.status, "queued"))
    )[0]!.n;

  /**
   * Decides for the highest-priority queued leads while today's capacity lasts (or,
   * in approval mode, holds the decisions for an operator).
   */
  async function drain(maxLeads = 200): Promise<{
    requested: number;
    pendingApproval: number;
    nurtured: number;
    waiting: number;
    /** Leads set aside because their decision could not be written, with the reason. */
    failed: FailedDecision[];
  }> {
    const result = {
      requested: 0,
      pendingApproval: 0,
      nurtured: 0,
      waiting: 0,
      failed: [] as FailedDecision[],
    };
    // Kill switch: nothing new goes out; queued leads wait (they are not lost).
    if (await settingEnabled(db, KILL_SWITCH)) return { ...result, waiting: await waiting() };
    const stale = await nurtureStale();
    result.nurtured = stale.nurtured;
    result.failed.push(...stale.failed);
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
    const halfLifeS = (capacity.agingHalfLifeHours * hourMs) / 1000;
    // With whether each is on the do-not-contact list: nothing is chosen for those (the
    // batch re-checks the list as it claims, for an opt-out that arrives meanwhile).
    const candidates = await db
      .select({ ...leadColumns, listed: schema.doNotContact.leadId })
      .from(schema.queue)
      .leftJoin(schema.doNotContact, eq(schema.doNotContact.leadId, schema.queue.leadId))
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
    const decided = await decideBatch(
      ctx,
      candidates.map(({ listed, ...lead }) => ({ lead, listed: listed !== null })),
      { held: approval, day },
    );
    result.requested = decided.requested;
    result.pendingApproval = decided.pendingApproval;
    result.failed.push(...decided.failed);
    result.waiting = await waiting();
    return result;
  }

  return { handleScored, drain };
}
