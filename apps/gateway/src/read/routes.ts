/**
 * The dashboard's read API (behind the viewer role): the lead queue and each lead's
 * journey, the experiments' standings and traffic over time, the outreach log, the
 * funnel, the "learned lately" feed, and the live stream (`GET /api/stream`, SSE).
 * Everything is read from the gateway's own tables; JSON numbers carry their basis
 * (counts beside rates), and nothing here is trusted as HTML (the web escapes).
 */
import type { Db } from "@pw/db";
import { queryRows } from "@pw/db";
import { armView, leadView, streamEvents } from "@pw/db/gateway";
import { and, asc, desc, eq, gt, ilike, lt, or, type SQL, sql } from "drizzle-orm";
import type { FastifyInstance, preHandlerHookHandler } from "fastify";
import { registerControlRoutes } from "./control-routes.ts";
import { type ArmNumbers, type StatusChange, sentence } from "./feed.ts";
import type { LiveConnection, LiveHub } from "./hub.ts";
import {
  badRequest,
  ExperimentsQuery,
  FeedQuery,
  FunnelQuery,
  HistoryQuery,
  JourneyQuery,
  LastEventIdHeader,
  LeadParams,
  LeadsQuery,
  notFound,
  OutreachQuery,
  parse,
  SegmentParams,
  StreamQuery,
} from "./query.ts";
import { toRow } from "./rows.ts";

export type Role = "viewer" | "operator" | "admin";

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
/** How far back the funnel looks by default, per bucket. */
const DEFAULT_SPAN = { minute: 60, hour: 48, day: 30 } as const;
const MAX_BUCKETS = 2_000;
const SNAPSHOT = "experiment.posterior_snapshot.v1";
const STATUS_CHANGED = "experiment.variant_status_changed.v1";
/** A segment with nothing it may send, and when it can send again (ADR 0014). */
const SEGMENT_BLOCKED = "experiment.segment_blocked.v1";
const SEGMENT_UNBLOCKED = "experiment.segment_unblocked.v1";
const CHANGE_DETECTED = "experiment.change_detected.v1";

export function registerReadRoutes(
  app: FastifyInstance,
  o: { db: Db; hub: LiveHub; guard: (role: Role) => preHandlerHookHandler },
): void {
  const { db } = o;
  const viewer = { preHandler: o.guard("viewer") };
  registerControlRoutes(app, { db, viewer });

  app.get("/api/leads", viewer, async (req, reply) => {
    const q = parse(LeadsQuery, req.query, reply);
    if (!q) return reply;
    const where: SQL[] = [];
    if (q.status) where.push(eq(leadView.status, q.status));
    if (q.tier) where.push(eq(leadView.tier, q.tier));
    if (q.segment) where.push(eq(leadView.segment, q.segment));
    if (q.q) {
      const like = `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(
        or(
          ilike(leadView.name, like),
          ilike(leadView.company, like),
          ilike(leadView.email, like),
          ilike(leadView.leadId, like),
        )!,
      );
    }
    const priority = sql`coalesce(${leadView.priority}, -1)`;
    const score = sql`coalesce(${leadView.score}, -1::real)`;
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      if (!c)
        return badRequest(reply, [{ path: "cursor", message: "is not a cursor this API gave" }]);
      where.push(
        sql`(${priority}, ${score}, ${leadView.updatedAt}, ${leadView.leadId}) < (${c[0]}::int, ${c[1]}::real, ${c[2]}::timestamptz, ${c[3]}::text)`,
      );
    }
    const rows = await db
      .select()
      .from(leadView)
      .where(and(...where))
      .orderBy(desc(priority), desc(score), desc(leadView.updatedAt), desc(leadView.leadId))
      .limit(q.limit + 1);
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor:
        rows.length > q.limit && last
          ? encodeCursor([
              last.priority ?? -1,
              last.score ?? -1,
              last.updatedAt.toISOString(),
              last.leadId,
            ])
          : null,
    };
  });

  app.get("/api/leads/:leadId", viewer, async (req, reply) => {
    const p = parse(LeadParams, req.params, reply);
    if (!p) return reply;
    const [lead] = await db.select().from(leadView).where(eq(leadView.leadId, p.leadId));
    return lead ?? notFound(reply, `no lead ${p.leadId}`);
  });

  app.get("/api/leads/:leadId/journey", viewer, async (req, reply) => {
    const p = parse(LeadParams, req.params, reply);
    const q = p && parse(JourneyQuery, req.query, reply);
    if (!p || !q) return reply;
    const rows = await db
      .select()
      .from(streamEvents)
      .where(
        and(
          eq(streamEvents.subject, p.leadId),
          q.after !== undefined ? gt(streamEvents.seq, q.after) : undefined,
        ),
      )
      .orderBy(asc(streamEvents.seq))
      .limit(q.limit + 1);
    const events = rows.slice(0, q.limit).map(toRow);
    if (events.length === 0 && q.after === undefined) {
      const [lead] = await db.select().from(leadView).where(eq(leadView.leadId, p.leadId));
      if (!lead) return notFound(reply, `no lead ${p.leadId}`);
    }
    return {
      leadId: p.leadId,
      events,
      nextCursor: rows.length > q.limit ? String(events.at(-1)!.seq) : null,
    };
  });

  app.get("/api/experiments", viewer, async (req, reply) => {
    const q = parse(ExperimentsQuery, req.query, reply);
    if (!q) return reply;
    const arms = await db
      .select()
      .from(armView)
      .where(q.segment ? eq(armView.segment, q.segment) : undefined)
      .orderBy(asc(armView.segment), sql`${armView.pBest} desc nulls last`, asc(armView.variantId));
    const segments = new Map<string, typeof arms>();
    for (const arm of arms) {
      const list = segments.get(arm.segment) ?? [];
      list.push(arm);
      segments.set(arm.segment, list);
    }
    return {
      segments: [...segments].map(([segment, list]) => {
        const total = list.reduce((n, a) => n + a.exposures, 0);
        return {
          segment,
          exposures: total,
          arms: list.map((a) => ({ ...a, share: total > 0 ? a.exposures / total : 0 })),
        };
      }),
    };
  });

  app.get("/api/experiments/:segment/history", viewer, async (req, reply) => {
    const p = parse(SegmentParams, req.params, reply);
    const q = p && parse(HistoryQuery, req.query, reply);
    if (!p || !q) return reply;
    const rows = await db
      .select({ seq: streamEvents.seq, at: streamEvents.at, data: streamEvents.data })
      .from(streamEvents)
      .where(and(eq(streamEvents.subject, `segment:${p.segment}`), eq(streamEvents.type, SNAPSHOT)))
      .orderBy(desc(streamEvents.seq))
      .limit(q.limit);
    const snapshots = rows.reverse().map((r) => {
      const arms = (r.data.arms ?? []) as (ArmNumbers & { variantId: string; status: string })[];
      const total = arms.reduce((n, a) => n + a.exposures, 0);
      return {
        seq: Number(r.seq),
        at: (r.data.at as string | undefined) ?? r.at.toISOString(),
        reward: r.data.reward,
        total,
        exposures: Object.fromEntries(arms.map((a) => [a.variantId, a.exposures])),
        share: Object.fromEntries(
          arms.map((a) => [a.variantId, total > 0 ? a.exposures / total : 0]),
        ),
        pBest: Object.fromEntries(arms.map((a) => [a.variantId, a.pBest])),
        status: Object.fromEntries(arms.map((a) => [a.variantId, a.status])),
      };
    });
    return { segment: p.segment, snapshots };
  });

  app.get("/api/outreach", viewer, async (req, reply) => {
    const q = parse(OutreachQuery, req.query, reply);
    if (!q) return reply;
    const field = (name: string, value: string | undefined) =>
      value === undefined ? undefined : sql`${streamEvents.data}->>${name} = ${value}`;
    const rows = await db
      .select()
      .from(streamEvents)
      .where(
        and(
          eq(streamEvents.type, "outreach.dispatched.v1"),
          field("status", q.status),
          field("channel", q.channel),
          field("variantId", q.variantId),
          q.cursor !== undefined ? lt(streamEvents.seq, q.cursor) : undefined,
        ),
      )
      .orderBy(desc(streamEvents.seq))
      .limit(q.limit + 1);
    const items = rows.slice(0, q.limit).map((r) => ({
      ...r.data,
      seq: Number(r.seq),
      leadId: r.subject,
      at: r.at.toISOString(),
    }));
    return {
      items,
      nextCursor: rows.length > q.limit ? String(items.at(-1)!.seq) : null,
    };
  });

  app.get("/api/funnel", viewer, async (req, reply) => {
    const q = parse(FunnelQuery, req.query, reply);
    if (!q) return reply;
    const step = BUCKET_MS[q.bucket];
    const end = Math.floor(Date.now() / step) * step;
    const since = q.since
      ? Math.floor(Date.parse(q.since) / step) * step
      : end - (DEFAULT_SPAN[q.bucket] - 1) * step;
    if ((end - since) / step + 1 > MAX_BUCKETS)
      return badRequest(reply, [
        { path: "since", message: `is more than ${MAX_BUCKETS} ${q.bucket}s ago` },
      ]);
    const rows = await queryRows<{
      epoch: number | string;
      received: number;
      scored: number;
      requested: number;
      sent: number;
      converted: number;
    }>(
      db,
      sql`select extract(epoch from date_trunc(${q.bucket}, ${streamEvents.at} at time zone 'UTC'))::float8 as epoch,
        (count(*) filter (where ${streamEvents.topic} = 'lead.events.v1'))::int as received,
        (count(*) filter (where ${streamEvents.topic} = 'lead.scored.v1'))::int as scored,
        (count(*) filter (where ${streamEvents.topic} = 'outreach.requested.v1'))::int as requested,
        (count(*) filter (where ${streamEvents.type} = 'outreach.dispatched.v1' and ${streamEvents.data}->>'status' = 'sent'))::int as sent,
        (count(*) filter (where ${streamEvents.type} = 'outreach.outcome.v1' and ${streamEvents.data}->>'outcome' = 'converted'))::int as converted
      from ${streamEvents}
      where ${streamEvents.at} >= ${new Date(since)}
        and ${streamEvents.topic} in ('lead.events.v1', 'lead.scored.v1', 'outreach.requested.v1', 'outreach.dispatched.v1', 'outreach.outcomes.v1')
      group by 1 order by 1`,
    );
    const byStart = new Map(rows.map((r) => [Number(r.epoch) * 1000, r]));
    const last = Math.max(end, ...byStart.keys());
    const series = [];
    for (let t = since; t <= last; t += step) {
      const r = byStart.get(t);
      series.push({
        start: new Date(t).toISOString(),
        received: r?.received ?? 0,
        scored: r?.scored ?? 0,
        requested: r?.requested ?? 0,
        sent: r?.sent ?? 0,
        converted: r?.converted ?? 0,
      });
    }
    return { bucket: q.bucket, since: new Date(since).toISOString(), series };
  });

  app.get("/api/feed", viewer, async (req, reply) => {
    const q = parse(FeedQuery, req.query, reply);
    if (!q) return reply;
    const rows = await queryRows<{
      seq: number | string;
      at: string | Date;
      type: string;
      data: StatusChange & { at?: string };
      arm: (ArmNumbers & { variantId: string }) | null;
    }>(
      db,
      sql`select e.seq, e.at, e.type, e.data, snap.arm
      from ${streamEvents} e
      left join lateral (
        select arm from ${streamEvents} s, jsonb_array_elements(s.data->'arms') arm
        where s.subject = e.subject and s.type = ${SNAPSHOT} and s.seq <= e.seq
          and arm->>'variantId' = e.data->>'variantId'
        order by s.seq desc limit 1
      ) snap on true
      where e.type in (${STATUS_CHANGED}, ${SEGMENT_BLOCKED}, ${SEGMENT_UNBLOCKED}, ${CHANGE_DETECTED})
        ${q.cursor !== undefined ? sql`and e.seq < ${q.cursor}` : sql``}
      order by e.seq desc limit ${q.limit + 1}`,
    );
    const items = rows.slice(0, q.limit).map((r) => {
      if (r.type !== STATUS_CHANGED) {
        // The engine's own sentence names the variants and why (or what can be sent again,
        // or how the market moved).
        const [kind, from, to] =
          r.type === SEGMENT_BLOCKED
            ? ["segment_blocked", "sending", "blocked"]
            : r.type === SEGMENT_UNBLOCKED
              ? ["segment_unblocked", "blocked", "sending"]
              : ["change_detected", "learned", "relearning"];
        return {
          seq: Number(r.seq),
          at: r.data.at ?? new Date(r.at).toISOString(),
          kind,
          segment: r.data.segment,
          variantId: null,
          from,
          to,
          by: null,
          reason: r.data.reason,
          numbers: null,
          sentence: r.data.reason,
          evidence: `/api/experiments/${encodeURIComponent(r.data.segment)}/history`,
        };
      }
      const numbers = r.arm
        ? {
            pBest: r.arm.pBest,
            mean: r.arm.mean,
            exposures: r.arm.exposures,
            successes: r.arm.successes,
          }
        : undefined;
      return {
        seq: Number(r.seq),
        at: r.data.at ?? new Date(r.at).toISOString(),
        kind: `variant_${r.data.to}`,
        segment: r.data.segment,
        variantId: r.data.variantId,
        from: r.data.from,
        to: r.data.to,
        by: r.data.by,
        reason: r.data.reason,
        numbers: numbers ?? null,
        sentence: sentence(r.data, numbers),
        evidence: `/api/experiments/${encodeURIComponent(r.data.segment)}/history`,
      };
    });
    return { items, nextCursor: rows.length > q.limit ? String(items.at(-1)!.seq) : null };
  });

  // Live stream. Connections this app opened end when it closes (before Fastify waits
  // for in-flight requests, which an open stream never finishes).
  const open = new Set<LiveConnection>();
  app.addHook("preClose", async () => {
    for (const c of open) c.close();
  });
  app.get("/api/stream", viewer, async (req, reply) => {
    const q = parse(StreamQuery, req.query, reply);
    if (!q) return reply;
    let lastEventId = q.lastEventId;
    const header = req.headers["last-event-id"];
    if (typeof header === "string" && header !== "") {
      const parsed = LastEventIdHeader.safeParse(header);
      if (!parsed.success)
        return badRequest(reply, [
          { path: "Last-Event-ID", message: "must be a non-negative integer (an SSE id)" },
        ]);
      lastEventId = parsed.data;
    }
    reply.hijack();
    const conn = o.hub.attach(reply.raw, {
      filter: { topics: q.topics, lead: q.lead },
      ...(lastEventId !== undefined ? { lastEventId } : {}),
      headers: reply.getHeaders(),
    });
    open.add(conn);
    reply.raw.once("close", () => open.delete(conn));
  });
}

type Cursor = [number, number, string, string];

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}

function decodeCursor(s: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(s, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(c) &&
      c.length === 4 &&
      Number.isInteger(c[0]) &&
      typeof c[1] === "number" &&
      typeof c[2] === "string" &&
      !Number.isNaN(Date.parse(c[2])) &&
      typeof c[3] === "string"
    )
      return c as Cursor;
  } catch {
    // fall through: not ours
  }
  return undefined;
}
