/**
 * The gateway's read model: every event of every topic is stored once in
 * `gateway.stream_events` (the live stream's log, the journeys, the funnel) and folded
 * into the lead queue (`gateway.leads`), the experiments' standings (`gateway.arms`), the
 * approval queue (`gateway.approvals`), the model versions (`gateway.model_versions`) and
 * the services' confirmations of commands (`gateway.audit_log`) in the same transaction; a
 * redelivered event changes nothing. Built only from the topics, never from another
 * service's tables.
 *
 * Projections are serialised (one at a time in this process, and a transaction-scoped
 * advisory lock across gateway instances), so `seq` order is commit order: a live
 * client that saw seq N has seen every committed row before it, which is what lets the
 * hub resume without gaps.
 */
import type { Db, Executor, Tx } from "@pw/db";
import { armView, leadView, streamEvents } from "@pw/db/gateway";
import {
  ALL_TOPICS,
  type CommandResultV1,
  type DecisionHeldV1,
  type DecisionResolvedV1,
  type ModelCandidateRejectedV1,
  type ModelVersionActivatedV1,
  OPS_TOPICS,
  type TopicName,
  TopicSchemas,
} from "@pw/events";
import type { Logger } from "@pw/logger";
import type { ServiceKit } from "@pw/service";
import { and, eq, lt, sql } from "drizzle-orm";
import { recordConfirmation } from "../commands/audit.ts";
import { projectHeld, projectResolved } from "./approvals.ts";
import type { LiveHub } from "./hub.ts";
import { projectModelVersion, projectRejectedCandidate } from "./models.ts";
import { type StreamRow, toRow } from "./rows.ts";
import { advance, type LeadStatus } from "./status.ts";

export type Projected = "projected" | "duplicate" | "ignored";

type Envelope = {
  id: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
};

const LEAD_EVENT_TYPES = ["lead.crm_record_changed.v1", "lead.intent_signal.v1"];
/** Reasons shown in the queue: the strongest drivers, either way. */
const TOP_REASONS = 3;
const BATCH = 200;
const PRUNE_PAGE = 5_000;

export function readModel(o: { db: Db; logger: Logger; hub: LiveHub; now?: () => Date }) {
  const now = o.now ?? (() => new Date());
  let tail: Promise<unknown> = Promise.resolve();
  /** One projection at a time: seq order = commit order = publish order. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };

  async function handleMany(topic: TopicName, events: unknown[]): Promise<Projected[]> {
    if (!(ALL_TOPICS as string[]).includes(topic)) return events.map(() => "ignored");
    const schema = TopicSchemas[topic];
    const decoded = events.map((e) => {
      const parsed = schema.safeParse(e);
      if (!parsed.success)
        throw new Error(
          `invalid ${topic} event ${(e as { id?: unknown })?.id ?? "(no id)"}: ${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join(".")}: ${i.message}`)
            .join("; ")}`,
        );
      return parsed.data as unknown as Envelope;
    });
    return serial(async () => {
      const rows: StreamRow[] = [];
      const results = await o.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('gateway.stream_events'))`);
        const out: Projected[] = [];
        for (const event of decoded) {
          const [inserted] = await tx
            .insert(streamEvents)
            .values({
              eventId: event.id,
              topic,
              type: event.type,
              subject: event.subject,
              at: new Date(event.time),
              data: shown(event),
            })
            .onConflictDoNothing({ target: streamEvents.eventId })
            .returning();
          if (!inserted) {
            out.push("duplicate");
            continue;
          }
          await project(tx, event, now());
          rows.push(toRow(inserted));
          out.push("projected");
        }
        return out;
      });
      // Still inside `serial`: rows reach the hub in seq order.
      for (const row of rows) o.hub.publish(row);
      return results;
    });
  }

  return {
    /** Projects one event of `topic` (idempotent on event id: a redelivery changes nothing). */
    async handle(topic: TopicName, event: unknown): Promise<Projected> {
      const [result] = await handleMany(topic, [event]);
      return result!;
    },
    /** Several consecutive events of one topic in one transaction (the subscription's batches). */
    handleMany,
    /**
     * Subscribes to every topic of ALL_TOPICS except DLQs and OPS_TOPICS (heartbeats: the
     * Health page keeps them in memory, src/pipeline/) with the kit (group "gateway").
     */
    async subscribeAll(kit: Pick<ServiceKit, "subscribe">): Promise<void> {
      for (const topic of ALL_TOPICS.filter(
        (t) => !t.endsWith(".dlq") && !OPS_TOPICS.includes(t),
      )) {
        await kit.subscribe({
          topic,
          groupId: "gateway",
          handler: (event) => handleMany(topic, [event]).then((r) => r[0]),
          batch: { maxSize: BATCH, handler: (events) => handleMany(topic, events) },
        });
      }
    },
    /** Deletes stream events older than `olderThan` (the journey keeps what is left). */
    async prune(olderThan: Date): Promise<number> {
      let total = 0;
      for (;;) {
        const deleted = await o.db
          .delete(streamEvents)
          .where(
            sql`${streamEvents.seq} in (select ${streamEvents.seq} from ${streamEvents} where ${lt(streamEvents.at, olderThan)} limit ${PRUNE_PAGE})`,
          )
          .returning({ seq: streamEvents.seq });
        total += deleted.length;
        if (deleted.length < PRUNE_PAGE) break;
      }
      if (total > 0) o.logger.debug({ deleted: total }, "pruned stream events");
      return total;
    },
  };
}
export type ReadModel = ReturnType<typeof readModel>;

/**
 * The data as stored and shown: as published, minus what the gateway must never keep.
 * Reply text is personal content classified elsewhere; an unknown outcome's raw vendor
 * payload may carry it too, so only its keys are kept.
 */
function shown(event: Envelope): Record<string, unknown> {
  if (event.type === "outreach.outcome.v1") {
    const { replyText: _dropped, ...rest } = event.data;
    return rest;
  }
  if (event.type === "outreach.unknown_outcome.v1") {
    const { raw, ...rest } = event.data;
    const keys = raw && typeof raw === "object" ? Object.keys(raw).slice(0, 50) : [];
    return { ...rest, rawKeys: keys };
  }
  return event.data;
}

async function project(tx: Tx, event: Envelope, at: Date): Promise<void> {
  const d = event.data;
  switch (event.type) {
    case "lead.crm_record_changed.v1":
    case "lead.intent_signal.v1":
      return upsertLead(tx, event.subject, { ...(await profileOf(tx, event.subject)) }, at);
    case "lead.unknown_event.v1":
      return upsertLead(tx, event.subject, {}, at);
    case "lead.scored.v1": {
      const status: LeadStatus = "scored";
      if (await newerExists(tx, event, "scoredAt"))
        return upsertLead(tx, event.subject, { status }, at);
      const reasons = [...(d.reasons as { contribution: number }[])]
        .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
        .slice(0, TOP_REASONS) as { code: string; label: string; contribution: number }[];
      return upsertLead(
        tx,
        event.subject,
        {
          score: d.score as number,
          tier: d.tier as string,
          segment: d.segment as string,
          reasons,
          status,
        },
        at,
      );
    }
    case "outreach.requested.v1":
      return upsertLead(
        tx,
        event.subject,
        { status: "requested", priority: Math.round(d.priority as number) },
        at,
      );
    case "outreach.dispatched.v1":
      return upsertLead(tx, event.subject, d.status === "sent" ? { status: "contacted" } : {}, at);
    case "outreach.outcome.v1":
      return upsertLead(tx, event.subject, { status: outcomeStatus(d) }, at);
    case "lead.opted_out.v1":
      return upsertLead(tx, event.subject, { status: "opted_out" }, at);
    case "experiment.posterior_snapshot.v1":
      return snapshot(tx, d);
    case "experiment.variant_status_changed.v1":
      return statusChanged(tx, d);
    case "experiment.playbook_changed.v1":
      if (d.change !== "retired") return;
      await tx
        .update(armView)
        .set({
          status: "retired",
          statusReason: `playbook retired by ${d.by as string}`,
          updatedAt: new Date(d.at as string),
        })
        .where(
          and(
            eq(armView.variantId, d.variantId as string),
            sql`${armView.updatedAt} <= ${new Date(d.at as string)}`,
          ),
        );
      return;
    case "experiment.decision_held.v1":
      return projectHeld(tx, event.subject, d as DecisionHeldV1["data"]);
    case "experiment.decision_resolved.v1":
      return projectResolved(tx, event.subject, d as DecisionResolvedV1["data"]);
    case "operator.command_result.v1":
      // A confirmation for a command issued elsewhere has no audit row: stream only.
      await recordConfirmation(tx, d as CommandResultV1["data"]);
      return;
    case "model.version_activated.v1":
      return projectModelVersion(tx, d as ModelVersionActivatedV1["data"]);
    case "model.candidate_rejected.v1":
      return projectRejectedCandidate(tx, d as ModelCandidateRejectedV1["data"]);
    default:
      // Operator commands and unknown outcomes: in the stream and the journey only.
      return;
  }
}

function outcomeStatus(d: Record<string, unknown>): LeadStatus | undefined {
  switch (d.outcome) {
    case "replied":
      return "replied";
    case "meeting_booked":
      return "meeting_booked";
    case "converted":
      return "converted";
    case "unsubscribed":
      return "opted_out";
    case "bounced":
      return d.bounceType === "hard" ? "opted_out" : undefined;
    default:
      return undefined;
  }
}

type LeadPatch = Partial<
  Pick<
    typeof leadView.$inferInsert,
    "name" | "company" | "email" | "score" | "tier" | "segment" | "reasons" | "priority"
  >
> & { status?: LeadStatus | undefined };

async function upsertLead(tx: Tx, leadId: string, patch: LeadPatch, at: Date): Promise<void> {
  const [current] = await tx
    .select({ status: leadView.status })
    .from(leadView)
    .where(eq(leadView.leadId, leadId))
    .for("update");
  const { status: proposed, ...fields } = patch;
  const status = advance(current?.status, proposed);
  if (!current) {
    await tx.insert(leadView).values({ leadId, ...fields, status, updatedAt: at });
    return;
  }
  await tx
    .update(leadView)
    .set({ ...fields, status, updatedAt: at })
    .where(eq(leadView.leadId, leadId));
}

/**
 * The lead's name, company and e-mail from every profile patch it has had, each field
 * from the patch that happened last in the CRM (`occurredAt`, not arrival order); intent
 * signals (form fills) only fill what the CRM never said.
 */
async function profileOf(tx: Executor, leadId: string) {
  const rows = await tx
    .select({ type: streamEvents.type, data: streamEvents.data })
    .from(streamEvents)
    .where(
      and(
        eq(streamEvents.subject, leadId),
        sql`${streamEvents.type} in (${sql.join(
          LEAD_EVENT_TYPES.map((t) => sql`${t}`),
          sql`, `,
        )})`,
      ),
    )
    .orderBy(sql`(${streamEvents.data}->>'occurredAt')::timestamptz`, streamEvents.seq);
  const merged: Record<string, unknown> = {};
  for (const pass of ["lead.intent_signal.v1", "lead.crm_record_changed.v1"])
    for (const r of rows)
      if (r.type === pass && r.data.profile && typeof r.data.profile === "object")
        for (const [k, v] of Object.entries(r.data.profile as Record<string, unknown>))
          if (v !== undefined && v !== null) merged[k] = v;
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);
  const name = [str(merged.firstName), str(merged.lastName)].filter(Boolean).join(" ");
  return {
    ...(name ? { name } : {}),
    ...(str(merged.company) ? { company: str(merged.company) } : {}),
    ...(str(merged.email) ? { email: str(merged.email) } : {}),
  };
}

/** True when an event of the same type and subject that happened later was already projected. */
async function newerExists(tx: Executor, event: Envelope, timeField: string): Promise<boolean> {
  const time = event.data[timeField];
  if (typeof time !== "string") return false;
  const [row] = await tx
    .select({ seq: streamEvents.seq })
    .from(streamEvents)
    .where(
      and(
        eq(streamEvents.subject, event.subject),
        eq(streamEvents.type, event.type),
        sql`${streamEvents.eventId} <> ${event.id}`,
        sql`(${streamEvents.data}->>${timeField})::timestamptz > ${time}::timestamptz`,
      ),
    )
    .limit(1);
  return row !== undefined;
}

type Arm = {
  variantId: string;
  mean: number;
  low: number;
  high: number;
  pBest: number;
  exposures: number;
  successes: number;
  status: string;
};

/** An arm row changes only for an event at least as recent as what it already shows. */
const notOlder = sql`${armView.updatedAt} <= excluded.updated_at`;

async function snapshot(tx: Tx, d: Record<string, unknown>): Promise<void> {
  const at = new Date(d.at as string);
  for (const arm of d.arms as Arm[]) {
    const values = {
      mean: arm.mean,
      low: arm.low,
      high: arm.high,
      pBest: arm.pBest,
      exposures: arm.exposures,
      successes: arm.successes,
      status: arm.status,
      updatedAt: at,
    };
    await tx
      .insert(armView)
      .values({ segment: d.segment as string, variantId: arm.variantId, ...values })
      .onConflictDoUpdate({
        target: [armView.segment, armView.variantId],
        set: {
          ...values,
          // A status the snapshot does not change keeps the reason it was given.
          statusReason: sql`case when ${armView.status} = excluded.status then ${armView.statusReason} else null end`,
        },
        setWhere: notOlder,
      });
  }
}

async function statusChanged(tx: Tx, d: Record<string, unknown>): Promise<void> {
  const values = {
    status: d.to as string,
    statusReason: d.reason as string,
    updatedAt: new Date(d.at as string),
  };
  await tx
    .insert(armView)
    .values({ segment: d.segment as string, variantId: d.variantId as string, ...values })
    .onConflictDoUpdate({
      target: [armView.segment, armView.variantId],
      set: values,
      setWhere: notOlder,
    });
}
