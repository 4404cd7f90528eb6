/**
 * Demo mode's "trigger an outcome by hand" (docs/demo.md, step 4): an operator asks for a
 * reply, a meeting, a conversion or an unsubscribe for a lead, and the gateway posts the
 * signed outcome webhook a provider would to ingest's `/webhooks/outcomes` — the same
 * door, the same signature check, the same path through the engine and Sentry as a real
 * one. Off unless GATEWAY_DEMO_INGEST_URL and GATEWAY_DEMO_WEBHOOK_SECRET are set (the
 * demo sets them; a production gateway has no business signing provider webhooks).
 * `GET /api/demo` tells the dashboard whether to offer the buttons.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import type { Logger } from "@pw/logger";
import { and, desc, eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { z } from "zod";
import { invalidBody, issuesOf } from "../auth/errors.ts";
import type { Auth } from "../auth/index.ts";
import { operatorOf } from "../auth/index.ts";
import type { DemoSettings } from "../config.ts";

export const DEMO_OUTCOMES = ["replied", "meeting_booked", "converted", "unsubscribed"] as const;

/** What the lead "says" when a reply is simulated without words of the operator's. */
const DEFAULT_REPLY = "Thanks for reaching out — this looks relevant. Could we talk next week?";

const Body = z.strictObject({
  leadId: z.string().min(1).max(200),
  outcome: z.enum(DEMO_OUTCOMES),
  /** A reply's words (classified downstream like any reply). */
  text: z.string().min(1).max(2_000).optional(),
});

export function registerDemoRoutes(
  app: FastifyInstance,
  o: { db: Db; guard: Auth["guard"]; settings: DemoSettings | undefined; logger: Logger },
): void {
  const { db, guard, settings, logger } = o;

  app.get("/api/demo", { preHandler: guard("viewer") }, async () => ({
    outcomes: settings ? DEMO_OUTCOMES : [],
  }));

  app.post("/api/demo/outcomes", { preHandler: guard("operator") }, async (req, reply) => {
    if (!settings)
      return reply.code(404).send({
        error: "not_demo",
        message:
          "simulated outcomes exist only in demo mode (GATEWAY_DEMO_INGEST_URL and GATEWAY_DEMO_WEBHOOK_SECRET)",
      });
    const body = Body.safeParse(req.body ?? {});
    if (!body.success) return invalidBody(reply, issuesOf(body.error));
    const { leadId, outcome, text } = body.data;
    const [lead] = await db
      .select({ leadId: schema.leadView.leadId })
      .from(schema.leadView)
      .where(eq(schema.leadView.leadId, leadId))
      .limit(1);
    if (!lead)
      return reply
        .code(404)
        .send({ error: "not_found", message: `no lead ${leadId}`, issues: [{ field: "leadId" }] });
    // The lead's latest request: the send a provider's report would name.
    const [requested] = await db
      .select({ data: schema.streamEvents.data })
      .from(schema.streamEvents)
      .where(
        and(
          eq(schema.streamEvents.subject, leadId),
          eq(schema.streamEvents.type, "outreach.requested.v1"),
        ),
      )
      .orderBy(desc(schema.streamEvents.seq))
      .limit(1);
    const requestId =
      typeof requested?.data.requestId === "string" ? requested.data.requestId : undefined;
    const payload = JSON.stringify({
      type: outcome,
      occurredAt: new Date().toISOString(),
      leadId,
      ...(requestId ? { requestId } : {}),
      ...(outcome === "replied" ? { replyText: text ?? DEFAULT_REPLY } : {}),
    });
    const id = `demo_${randomUUID()}`;
    const now = new Date();
    let status: number;
    let answer: Record<string, unknown> = {};
    try {
      const res = await fetch(new URL("/webhooks/outcomes", settings.ingestUrl), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
          "webhook-signature": new Webhook(settings.webhookSecret).sign(id, now, payload),
        },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    } catch (error) {
      logger.warn({ err: error, leadId }, "ingest did not take the simulated outcome");
      return reply.code(503).send({
        error: "ingest_unavailable",
        message: "ingest cannot take the outcome now; retry",
      });
    }
    if (status >= 300)
      return reply.code(502).send({
        error: "ingest_refused",
        message: `ingest answered ${status}: ${String(answer.message ?? answer.error ?? "")}`,
      });
    logger.info(
      { leadId, outcome, requestId, operator: operatorOf(req).username },
      "simulated outcome posted (demo mode)",
    );
    return reply.code(202).send({ eventId: answer.eventId, leadId, outcome, requestId });
  });
}
