/**
 * The Health page's routes: `GET /api/health` (every service's latest heartbeat, stale
 * ones flagged, and this gateway's own checks), `GET /api/dlq` (recent parked messages
 * and how many wait per DLQ) and `POST /api/commands/dlq-redrive` (an operator sends
 * parked messages back to their topic; audited like the commands).
 */
import { randomUUID } from "node:crypto";
import { DlqSelectionError, type DlqSelector } from "@pw/bus";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { ALL_TOPICS } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { Readiness } from "@pw/service";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { invalidBody, issuesOf } from "../auth/errors.ts";
import { type Auth, operatorOf } from "../auth/index.ts";
import { recordCommandResult } from "../commands/index.ts";
import { parse } from "../read/query.ts";
import { DLQ_VIEW_MAX, type DlqWatch } from "./dlq.ts";
import { type HealthBoard, STALE_INTERVALS } from "./health.ts";

/** What the audit log calls a redrive (not a command on operator.commands.v1). */
export const REDRIVE_COMMAND_TYPE = "gateway.dlq_redrive";

const Topic = z.preprocess(
  (v) => (typeof v === "string" && v.endsWith(".dlq") ? v.slice(0, -".dlq".length) : v),
  z.enum(ALL_TOPICS as [string, ...string[]]),
);

const DlqQuery = z.object({
  topic: z.preprocess((v) => (v === "" ? undefined : v), Topic.optional()),
  limit: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.coerce.number().int().min(1).max(DLQ_VIEW_MAX).default(100),
  ),
});

const RedriveBody = z
  .strictObject({
    /** The original topic (its `.dlq` is accepted too). */
    topic: Topic,
    /** One message by its event id… */
    eventId: z.string().min(1).max(200).optional(),
    /** …or by where it failed (the original offset, optionally with its partition)… */
    originalOffset: z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).optional(),
    originalPartition: z.number().int().min(0).optional(),
    /** …or everything waiting in the topic's DLQ. */
    all: z.literal(true).optional(),
    /** Why (shown in the audit log). */
    note: z.string().max(1000).optional(),
  })
  .superRefine((b, ctx) => {
    const chosen = (["eventId", "originalOffset", "all"] as const).filter(
      (k) => b[k] !== undefined,
    );
    if (chosen.length !== 1)
      ctx.addIssue({
        code: "custom",
        path: chosen.length === 0 ? ["eventId"] : [chosen[1]!],
        message:
          chosen.length === 0
            ? "choose the messages: eventId, originalOffset (with originalPartition) or all: true"
            : `one selector only (got ${chosen.join(", ")})`,
      });
    if (b.originalPartition !== undefined && b.originalOffset === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["originalPartition"],
        message: "only with originalOffset",
      });
  });
type RedriveBody = z.infer<typeof RedriveBody>;

function selectorOf(b: RedriveBody): DlqSelector {
  if (b.all) return "all";
  if (b.eventId !== undefined) return { eventId: b.eventId };
  return b.originalPartition === undefined
    ? { originalOffset: String(b.originalOffset) }
    : { originalOffset: String(b.originalOffset), originalPartition: b.originalPartition };
}

export function registerPipelineRoutes(
  app: FastifyInstance,
  o: {
    db: Db;
    guard: Auth["guard"];
    board: HealthBoard;
    watch: DlqWatch;
    /** This gateway's own readiness (the kit's checks). */
    readiness: () => Promise<Readiness>;
    /** Whether a redrive can be done here (a DLQ tool for this bus). */
    canRedrive: boolean;
    intervalMs: number;
    logger: Logger;
  },
): void {
  const { db, guard, board, watch, logger } = o;
  const topics = ALL_TOPICS;

  app.get("/api/health", { preHandler: guard("viewer") }, async () => {
    const gateway = await o.readiness();
    const services = board.view();
    return {
      at: new Date().toISOString(),
      ready: gateway.status === "ready" && services.every((s) => s.ready),
      intervalMs: o.intervalMs,
      staleAfterIntervals: STALE_INTERVALS,
      gateway: { status: gateway.status, checks: gateway.checks },
      services,
    };
  });

  app.get("/api/dlq", { preHandler: guard("viewer") }, async (req, reply) => {
    const q = parse(DlqQuery, req.query, reply);
    if (!q) return reply;
    const depths = await watch.depth(q.topic ? [q.topic] : topics);
    return {
      topics: depths,
      messages: watch.list({ topic: q.topic, limit: q.limit }),
      retained: watch.retained(),
      max: DLQ_VIEW_MAX,
      redrive: { available: o.canRedrive },
    };
  });

  app.post("/api/commands/dlq-redrive", { preHandler: guard("operator") }, async (req, reply) => {
    if (!o.canRedrive)
      return reply.code(503).send({
        error: "dlq unavailable",
        message: "this gateway has no DLQ tool for its bus (KAFKA_BROKERS unset?)",
      });
    const body = RedriveBody.safeParse(req.body ?? {});
    if (!body.success) return invalidBody(reply, issuesOf(body.error));
    const issuer = operatorOf(req);
    const which = selectorOf(body.data);
    const commandId = randomUUID();
    const at = new Date();
    // The audit row first: a gateway that dies mid-redrive leaves the attempt on record.
    const [row] = await db
      .insert(schema.auditLog)
      .values({
        commandId,
        commandType: REDRIVE_COMMAND_TYPE,
        operator: issuer.username,
        role: issuer.role,
        subject: `dlq:${body.data.topic}`,
        data: {
          topic: body.data.topic,
          selector: which,
          ...(body.data.note ? { note: body.data.note } : {}),
        },
        result: "published",
        at,
      })
      .returning({ id: schema.auditLog.id });
    const auditId = row!.id;
    try {
      const result = await watch.redrive(body.data.topic, which, {
        at: at.toISOString(),
        by: issuer.username,
        auditId,
      });
      if (result.handled.length === 0) {
        await recordCommandResult(db, commandId, "refused", "nothing parked");
        return reply.code(404).send({
          error: "not_found",
          message: `nothing is waiting in ${body.data.topic}.dlq`,
        });
      }
      await recordCommandResult(
        db,
        commandId,
        "applied",
        `redriven ${result.published} message(s) to ${result.topic}; ${result.reparked} re-parked`,
      );
      logger.info(
        {
          commandId,
          operator: issuer.username,
          topic: result.topic,
          redriven: result.published,
          reparked: result.reparked,
        },
        "DLQ redrive",
      );
      return {
        commandId,
        auditId,
        topic: result.topic,
        redriven: result.published,
        reparked: result.reparked,
        handled: result.handled.map((m) => ({
          eventId: m.eventId ?? null,
          eventType: m.eventType ?? null,
          partition: m.originalPartition,
          offset: m.originalOffset,
          consumerGroup: m.consumerGroup ?? null,
          reason: m.reason.slice(0, 500),
          parkedAt: m.parkedAt,
        })),
      };
    } catch (error) {
      if (error instanceof DlqSelectionError) {
        await recordCommandResult(db, commandId, "refused", error.message);
        return reply.code(404).send({ error: "not_found", message: error.message });
      }
      await recordCommandResult(db, commandId, "failed", (error as Error).message).catch(() => {});
      logger.error({ err: error, commandId }, "DLQ redrive failed");
      return reply.code(502).send({
        error: "redrive_failed",
        message: `the redrive did not complete: ${(error as Error).message}; what was already published is handled once (inboxes)`,
      });
    }
  });
}
