/**
 * The sender: each round claims the sends that are due, puts each through the policy
 * (opt-out, operator suppression, quiet hours in the lead's zone, the lead's touch gap,
 * the nurture cadence, per-domain / per-channel / nurture caps), hands the ones that may
 * go to the outreach agent with the send's idempotency key, and records every verdict
 * with its `outreach.dispatched.v1` event, the next cadence step and the Lightfield
 * write-back in one transaction. The kill switch holds everything back.
 *
 * Exactly once: the key `<requestId>#<step>` goes to the agent, which replays its first
 * answer for a key it has seen; a claim is a lease, so a send whose holder died between
 * the agent's answer and the record is claimed again after the lease and recorded from
 * the replay — never sent twice.
 */
import type { Db } from "@pw/db";
import { signUnsubscribeToken } from "@pw/events";
import type { Logger } from "@pw/logger";
import {
  type AgentPort,
  AgentRejectedError,
  AgentTransientError,
  type DispatchRequest,
  type DispatchResponse,
} from "@pw/outreach-agent/contract";
import { backoffDelay } from "@pw/resilience";
import type { ServiceMetrics } from "@pw/service";
import { captureError, countMetric, startEventSpan } from "@pw/telemetry";
import type { Clock } from "./clock.ts";
import type { DispatchConfig } from "./config.ts";
import { DISPATCHED, dispatched, outbox, type Verdict } from "./events.ts";
import { dayBucket, hourBucket, nextAllowed, zoneOf } from "./policy.ts";
import {
  claimDue,
  type Finish,
  finish,
  insertSends,
  killSwitch,
  type LeadRow,
  leadsById,
  markHeld,
  type NewSend,
  releaseCaps,
  releaseTouches,
  reserveCaps as reserveCapSlots,
  reserveTouches,
  type SendRow,
} from "./store.ts";
import type { WritebackPlanner } from "./writeback.ts";

export type RoundResult = {
  claimed: number;
  sent: number;
  deferred: number;
  skipped: number;
  failed: number;
  retrying: number;
  held: number;
};

type Outcome =
  | { kind: "sent"; dispatchId: string; messageId?: string | undefined; replayed: boolean }
  | { kind: "failed"; reason: string }
  | { kind: "skipped"; reason: string }
  | { kind: "deferred"; until: Date; reason: string }
  | { kind: "retry"; reason: string; retryAfterMs?: number | undefined }
  /** Back to scheduled unchanged, no event: looked at again next round. */
  | { kind: "release" };

const DAY_MS = 86_400_000;

export function senderBuilder(o: {
  db: Db;
  clock: Clock;
  config: Pick<DispatchConfig, "policy" | "sending" | "compliance">;
  agent: AgentPort;
  provider: "truefoundry" | "local";
  logger: Logger;
  metrics: ServiceMetrics;
  writeback?: WritebackPlanner | undefined;
  random?: () => number;
}) {
  const { db, clock, agent, logger } = o;
  const { policy, sending, compliance } = o.config;
  const random = o.random ?? Math.random;
  const verdicts = o.metrics.counter(
    "pw_dispatch_sends_total",
    "Verdicts on sends by status and reason class (sent, deferred, skipped, failed, retrying)",
    ["status", "reason"],
  );
  const latency = o.metrics.counter(
    "pw_dispatch_agent_calls_total",
    "Calls to the outreach agent by result",
    ["result"],
  );

  /** The same request for every attempt of a send (the agent refuses a key with another body). */
  function agentRequest(row: SendRow): DispatchRequest {
    const token = signUnsubscribeToken(
      {
        leadId: row.leadId,
        requestId: row.requestId,
        channel: row.channel,
        issuedAt: row.createdAt,
      },
      compliance.secret,
    );
    return {
      leadId: row.leadId,
      channel: row.channel,
      to: row.to,
      subject: row.subject,
      body: row.body,
      metadata: {
        requestId: row.requestId,
        step: row.step,
        variantId: row.variantId,
        track: row.track,
        unsubscribe: {
          url: `${compliance.baseUrl}/unsubscribe/${token}`,
          ...(compliance.mailto
            ? {
                mailto: `mailto:${compliance.mailto}?subject=${encodeURIComponent(`unsubscribe ${token}`)}`,
              }
            : {}),
        },
        footer: {
          postalAddress: compliance.postalAddress,
          unsubscribeText: compliance.footerText,
        },
      },
    };
  }

  /** The policy's verdict before any slot is taken: skip, defer or go on. */
  function precheck(row: SendRow, lead: LeadRow | undefined, now: Date): Outcome | undefined {
    if (lead?.optedOutAt)
      return { kind: "skipped", reason: `opted out: ${lead.optOutReason ?? "unknown"}` };
    if (lead?.suppressed) return { kind: "skipped", reason: "suppressed by an operator" };
    if (lead?.stoppedAt && lead.stoppedAt >= row.createdAt)
      return {
        kind: "skipped",
        reason: `cadence cancelled: ${lead.stopReason ?? "the lead answered"}`,
      };
    const zone = zoneOf(row.timeZone, policy.defaultTimeZone);
    const allowed = nextAllowed(now, zone, policy);
    if (allowed > now)
      return { kind: "deferred", until: allowed, reason: `quiet hours in ${zone}` };
    const own = lead?.lastTouchKey === row.key;
    if (!own && lead?.lastTouchAt && policy.leadMinGapMs > 0) {
      const free = new Date(lead.lastTouchAt.getTime() + policy.leadMinGapMs);
      if (free > now)
        return {
          kind: "deferred",
          until: free,
          reason: `one touch per lead per ${policy.leadMinGapMs / 3_600_000} h`,
        };
    }
    if (!own && row.track === "nurture" && lead?.lastNurtureAt && policy.nurtureMinGapMs > 0) {
      const free = new Date(lead.lastNurtureAt.getTime() + policy.nurtureMinGapMs);
      if (free > now)
        return {
          kind: "deferred",
          until: free,
          reason: `nurture cadence: one touch per ${policy.nurtureMinGapMs / DAY_MS} days`,
        };
    }
    return undefined;
  }

  type Slot = { scope: string; bucket: string; cap: number; next: Date; label: string };

  function slotsOf(row: SendRow, now: Date): Slot[] {
    const slots: Slot[] = [];
    const day = dayBucket(now);
    slots.push({
      scope: `channel:${row.channel}`,
      bucket: day.bucket,
      cap: policy.channelPerDay[row.channel],
      next: day.next,
      label: `daily ${row.channel} cap (${policy.channelPerDay[row.channel]}) reached`,
    });
    if (row.domain && policy.domainPerHour > 0) {
      const hour = hourBucket(now);
      slots.push({
        scope: `domain:${row.domain}`,
        bucket: hour.bucket,
        cap: policy.domainPerHour,
        next: hour.next,
        label: `per-domain cap for ${row.domain} (${policy.domainPerHour}/h) reached`,
      });
    }
    if (row.track === "nurture")
      slots.push({
        scope: "nurture",
        bucket: day.bucket,
        cap: policy.nurturePerDay,
        next: day.next,
        label: `daily nurture cap (${policy.nurturePerDay}) reached`,
      });
    return slots;
  }

  /** Reserves every cap slot the rows need; a row that misses any slot is deferred. */
  async function reserveCaps(rows: SendRow[], now: Date) {
    const need = new Map<string, { slot: Slot; rows: SendRow[] }>();
    const slotsByRow = new Map<string, Slot[]>();
    for (const row of rows) {
      const slots = slotsOf(row, now);
      slotsByRow.set(row.key, slots);
      for (const slot of slots) {
        const id = `${slot.scope}|${slot.bucket}`;
        const entry = need.get(id) ?? { slot, rows: [] };
        entry.rows.push(row);
        need.set(id, entry);
      }
    }
    const granted = await reserveCapSlots(
      db,
      [...need.values()].map(({ slot, rows: wanting }) => ({
        scope: slot.scope,
        bucket: slot.bucket,
        cap: slot.cap,
        wanted: wanting.length,
        expiresAt: new Date(slot.next.getTime() + DAY_MS),
      })),
    );
    const left = new Map(granted);
    const denied = new Map<string, Outcome>();
    const passed: SendRow[] = [];
    for (const row of rows) {
      const slots = slotsByRow.get(row.key)!;
      const missing = slots.filter((s) => (left.get(`${s.scope}|${s.bucket}`) ?? 0) <= 0);
      if (missing.length > 0) {
        const until = new Date(Math.max(...missing.map((s) => s.next.getTime())));
        denied.set(row.key, {
          kind: "deferred",
          until,
          reason: missing.map((s) => s.label).join("; "),
        });
        continue;
      }
      for (const s of slots)
        left.set(`${s.scope}|${s.bucket}`, left.get(`${s.scope}|${s.bucket}`)! - 1);
      passed.push(row);
    }
    // Slots reserved for rows that missed another one go back at once.
    await releaseCaps(db, left);
    return { passed, denied, slotsByRow };
  }

  function outcomeOf(answer: DispatchResponse | Error): Outcome {
    if (answer instanceof Error) return failureOf(answer);
    latency.inc({ result: answer.replayed ? `${answer.status}_replayed` : answer.status });
    return answer.status === "sent"
      ? {
          kind: "sent",
          dispatchId: answer.dispatchId,
          messageId: answer.providerMessageId,
          replayed: answer.replayed === true,
        }
      : { kind: "failed", reason: answer.reason ?? "the channel refused the message" };
  }

  function failureOf(error: unknown): Outcome {
    if (error instanceof AgentRejectedError) {
      latency.inc({ result: "rejected" });
      return {
        kind: "failed",
        reason: `agent refused the request (${error.status}): ${error.message}`,
      };
    }
    latency.inc({ result: "transient" });
    const retryAfterMs = error instanceof AgentTransientError ? error.retryAfterMs : undefined;
    return { kind: "retry", reason: (error as Error).message || String(error), retryAfterMs };
  }

  /** The agent's verdicts on the sends, in their order: batched where the agent can. */
  async function callAgent(rows: SendRow[]): Promise<Outcome[]> {
    if (agent.dispatchMany) {
      try {
        const answers = await agent.dispatchMany(
          rows.map((row) => ({ request: agentRequest(row), idempotencyKey: row.key })),
        );
        return answers.map(outcomeOf);
      } catch (error) {
        return rows.map(() => failureOf(error));
      }
    }
    return mapLimit(rows, sending.concurrency, async (row) => {
      try {
        return outcomeOf(await agent.dispatch(agentRequest(row), row.key));
      } catch (error) {
        return failureOf(error);
      }
    });
  }

  async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
    const out = new Array<R>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return out;
  }

  async function round(): Promise<RoundResult> {
    const result: RoundResult = {
      claimed: 0,
      sent: 0,
      deferred: 0,
      skipped: 0,
      failed: 0,
      retrying: 0,
      held: 0,
    };
    const now = clock.now();
    const ks = await killSwitch(db);
    if (ks?.engaged) {
      const reason = "kill switch engaged";
      const held = await markHeld(db, now, reason, sending.batch);
      if (held.length > 0)
        await db.transaction((tx) =>
          outbox.enqueue(
            tx,
            DISPATCHED,
            held.map((row) => dispatched(row, { status: "deferred", reason }, now, o.provider)),
          ),
        );
      result.held = held.length;
      return result;
    }
    const rows = await claimDue(db, now, sending.batch, clock.after(sending.leaseMs));
    result.claimed = rows.length;
    if (rows.length === 0) return result;
    const leads = await leadsById(db, [...new Set(rows.map((r) => r.leadId))]);
    const outcomes = new Map<string, Outcome>();
    const candidates: SendRow[] = [];
    const seenLeads = new Set<string>();
    for (const row of rows) {
      const early = precheck(row, leads.get(row.leadId), now);
      if (early) outcomes.set(row.key, early);
      else if (seenLeads.has(row.leadId)) outcomes.set(row.key, { kind: "release" });
      else {
        seenLeads.add(row.leadId);
        candidates.push(row);
      }
    }
    // The lead's touch slot, then the caps; a send that loses either is looked at again.
    const granted = await reserveTouches(
      db,
      candidates.map((row) => ({
        leadId: row.leadId,
        key: row.key,
        expected:
          leads.get(row.leadId)?.lastTouchKey === row.key
            ? null
            : (leads.get(row.leadId)?.lastTouchAt ?? null),
        nurture: row.track === "nurture",
      })),
      now,
    );
    const touched = candidates.filter((row) => granted.has(row.leadId));
    for (const row of candidates)
      if (!granted.has(row.leadId)) outcomes.set(row.key, { kind: "release" });
    const caps = await reserveCaps(touched, now);
    for (const [key, outcome] of caps.denied) outcomes.set(key, outcome);
    const sent = await callAgent(caps.passed);
    for (const [i, row] of caps.passed.entries()) outcomes.set(row.key, sent[i]!);

    // Slots of sends that did not go out are given back.
    const unsent = touched.filter((row) => outcomes.get(row.key)?.kind !== "sent");
    await releaseTouches(
      db,
      unsent.map((row) => {
        const lead = leads.get(row.leadId);
        return {
          leadId: row.leadId,
          key: row.key,
          lastTouchAt: lead?.lastTouchKey === row.key ? null : (lead?.lastTouchAt ?? null),
          lastTouchKey: lead?.lastTouchKey === row.key ? null : (lead?.lastTouchKey ?? null),
          lastNurtureAt: lead?.lastNurtureAt ?? null,
        };
      }),
      now,
    );
    const toRelease = new Map<string, number>();
    for (const row of caps.passed) {
      if (outcomes.get(row.key)?.kind === "sent") continue;
      for (const s of caps.slotsByRow.get(row.key) ?? []) {
        const id = `${s.scope}|${s.bucket}`;
        toRelease.set(id, (toRelease.get(id) ?? 0) + 1);
      }
    }
    await releaseCaps(db, toRelease);

    await record(rows, outcomes, now, result);
    return result;
  }

  async function record(
    rows: SendRow[],
    outcomes: Map<string, Outcome>,
    now: Date,
    result: RoundResult,
  ) {
    const finishes: Finish[] = [];
    const events = new Map<string, Verdict>();
    const next: (NewSend & { from: string })[] = [];
    const sentRows: { row: SendRow; dispatchId: string }[] = [];
    // Each verdict is a step of its lead's journey: a span in the trace the request (or,
    // for a follow-up due days later, the first touch) carried, which the verdict continues.
    const spanOf = new Map<string, string>();
    for (const row of rows) {
      const outcome = outcomes.get(row.key) ?? { kind: "release" };
      if (outcome.kind !== "release") {
        const span = startEventSpan({
          name: "outreach.send",
          op: "queue.task",
          traceparent: row.traceparent ?? undefined,
          attributes: {
            "pw.service": "dispatch",
            "lead.id": row.leadId,
            "request.id": row.requestId,
            channel: row.channel,
            "cadence.step": row.step,
            segment: row.segment,
            variant: row.variantId,
            track: row.track,
            status: outcome.kind,
          },
        });
        span.end(outcome.kind === "failed" ? new Error("send failed") : undefined);
        if (span.traceparent) spanOf.set(row.key, span.traceparent);
      }
      switch (outcome.kind) {
        case "sent": {
          const [step, ...rest] = row.followUps;
          const due = step ? new Date(now.getTime() + step.delayDays * DAY_MS) : undefined;
          finishes.push({
            key: row.key,
            state: "sent",
            reason: outcome.replayed ? "recorded from the agent's replay" : undefined,
            dispatchId: outcome.dispatchId,
            providerMessageId: outcome.messageId,
            sentAt: now,
          });
          events.set(row.key, {
            status: "sent",
            dispatchId: outcome.dispatchId,
            messageId: outcome.messageId,
            nextAt: due,
          });
          if (step && due)
            next.push({
              ...nextStepOf(row, now),
              key: `${row.requestId}#${step.step}`,
              step: step.step,
              subject: step.subject,
              body: step.body,
              followUps: rest,
              dueAt: due,
              from: row.key,
            });
          sentRows.push({ row, dispatchId: outcome.dispatchId });
          result.sent++;
          verdicts.inc({ status: "sent", reason: outcome.replayed ? "replayed" : "sent" });
          countMetric("pw.sends", 1, {
            status: "sent",
            channel: row.channel,
            step: row.step,
            segment: row.segment,
            variant: row.variantId,
          });
          break;
        }
        case "failed":
        case "skipped":
          finishes.push({ key: row.key, state: outcome.kind, reason: outcome.reason });
          events.set(row.key, { status: outcome.kind, reason: outcome.reason });
          result[outcome.kind]++;
          verdicts.inc({ status: outcome.kind, reason: reasonClass(outcome.reason) });
          countMetric("pw.sends", 1, {
            status: outcome.kind,
            reason: reasonClass(outcome.reason),
            channel: row.channel,
            step: row.step,
          });
          break;
        case "deferred":
          finishes.push({
            key: row.key,
            state: "scheduled",
            reason: outcome.reason,
            dueAt: outcome.until,
          });
          events.set(row.key, {
            status: "deferred",
            reason: outcome.reason,
            nextAt: outcome.until,
          });
          result.deferred++;
          verdicts.inc({ status: "deferred", reason: reasonClass(outcome.reason) });
          break;
        case "retry": {
          if (row.attempts >= sending.maxAttempts) {
            const reason = `gave up after ${row.attempts} attempts: ${outcome.reason}`;
            finishes.push({ key: row.key, state: "failed", reason });
            events.set(row.key, { status: "failed", reason });
            result.failed++;
            verdicts.inc({ status: "failed", reason: "attempts_exhausted" });
            // The outreach agent (Truefoundry) still failing after every retry: by cause.
            countMetric("pw.vendor_fallbacks", 1, {
              vendor: "outreach-agent",
              reason: reasonClass(outcome.reason),
            });
            captureError(new Error(`outreach agent: ${reason}`), {
              fingerprint: ["vendor", "outreach-agent", reasonClass(outcome.reason)],
              tags: {
                "lead.id": row.leadId,
                "request.id": row.requestId,
                channel: row.channel,
                step: row.step,
              },
            });
          } else {
            const backoff = Math.max(
              sending.retry.baseMs / 2,
              backoffDelay(
                row.attempts,
                { initialMs: sending.retry.baseMs, maxMs: sending.retry.maxMs },
                random,
              ),
              outcome.retryAfterMs ?? 0,
            );
            finishes.push({
              key: row.key,
              state: "scheduled",
              reason: `retrying: ${outcome.reason}`.slice(0, 500),
              dueAt: clock.after(backoff),
            });
            result.retrying++;
            verdicts.inc({ status: "retrying", reason: "transient" });
            logger.warn(
              {
                sendKey: row.key,
                leadId: row.leadId,
                attempt: row.attempts,
                reason: outcome.reason,
                retryInMs: backoff,
              },
              "send failed for now; retrying with the same key",
            );
          }
          break;
        }
        case "release":
          finishes.push({ key: row.key, state: "scheduled" });
          break;
      }
    }
    await db.transaction(async (tx) => {
      const done = await finish(tx, finishes, now);
      const out = rows
        .filter((row) => done.has(row.key) && events.has(row.key))
        .map((row) =>
          dispatched(
            { ...row, traceparent: spanOf.get(row.key) ?? row.traceparent },
            events.get(row.key)!,
            now,
            o.provider,
          ),
        );
      await outbox.enqueue(tx, DISPATCHED, out);
      await insertSends(
        tx,
        next.filter((n) => done.has(n.from)).map(({ from: _from, ...n }) => n),
        now,
      );
      if (o.writeback)
        await o.writeback.plan(
          tx,
          sentRows.filter((s) => done.has(s.row.key)),
          now,
        );
    });
  }

  function nextStepOf(row: SendRow, now: Date): NewSend {
    return {
      key: row.key,
      leadId: row.leadId,
      requestId: row.requestId,
      step: row.step,
      track: row.track,
      segment: row.segment,
      variantId: row.variantId,
      channel: row.channel,
      to: row.to,
      domain: row.domain,
      subject: row.subject,
      body: row.body,
      priority: row.priority,
      timeZone: row.timeZone,
      followUps: [],
      why: row.why,
      dueAt: now,
      traceparent: row.traceparent,
      createdAt: now,
      updatedAt: now,
    };
  }

  return { round, agentRequest };
}

/** A short class of a reason for metric labels (never free text). */
function reasonClass(reason: string): string {
  if (reason.startsWith("opted out")) return "opted_out";
  if (reason.startsWith("suppressed")) return "suppressed";
  if (reason.startsWith("quiet hours")) return "quiet_hours";
  if (reason.startsWith("one touch per lead")) return "lead_gap";
  if (reason.startsWith("nurture cadence")) return "nurture_cadence";
  if (reason.includes("cap")) return "cap";
  if (reason.startsWith("cadence cancelled")) return "cancelled";
  if (reason.startsWith("agent refused")) return "agent_refused";
  return "other";
}

export type Sender = ReturnType<typeof senderBuilder>;
