/**
 * The agent's HTTP API, as one encapsulated Fastify plugin (its error shape does not leak
 * onto the kit's ops routes): `POST /v1/dispatch` and `GET /v1/inbox`, both behind the
 * bearer JWT. Errors are `{error: {code, message, field?}}` (contract.ts).
 */
import type { Db } from "@pw/db";
import { agentInbox } from "@pw/db/agent";
import { and, desc, eq } from "drizzle-orm";
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { TokenVerifier } from "./auth.ts";
import { type AgentError, AgentRejectedError, AgentTransientError } from "./contract.ts";
import type { AgentCore } from "./core.ts";

const REALM = 'Bearer realm="outreach-agent"';

function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  field?: string,
): FastifyReply {
  const body: AgentError = { error: { code, message, ...(field ? { field } : {}) } };
  return reply.code(status).type("application/json").send(body);
}

const retryAfterSeconds = (ms: number | undefined) =>
  String(Math.max(1, Math.ceil((ms ?? 1_000) / 1_000)));

const InboxQuery = z.object({
  leadId: z.string().min(1).max(200).optional(),
  channel: z.string().min(1).max(20).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export function registerAgentRoutes(
  app: FastifyInstance,
  deps: { core: AgentCore; verifier: TokenVerifier; db: Db },
): void {
  const { core, verifier, db } = deps;

  app.register(async (scope) => {
    // Body parsing and the like: Fastify's own 4xx, in our shape.
    scope.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500)
        return sendError(reply, status, "invalid_request", error.message);
      request.log.error({ err: error }, "request failed");
      return sendError(reply, 500, "internal", "internal error");
    });

    // Before the body is read: an unauthenticated caller costs us no parsing.
    scope.addHook("onRequest", async (request, reply) => {
      if (verifier.mode === "none") return;
      if (!verifier.configured) {
        reply.header(
          "www-authenticate",
          `${REALM}, error="invalid_token", error_description="no verification key configured"`,
        );
        return sendError(reply, 401, "unauthorized", "this agent has no key to verify tokens with");
      }
      const verdict = await verifier.verify(request.headers.authorization);
      if (verdict.ok) return;
      if (verdict.error === "unavailable") {
        reply.header("retry-after", "5");
        return sendError(reply, 503, "auth_unavailable", verdict.description);
      }
      reply.header(
        "www-authenticate",
        verdict.error === "missing"
          ? REALM
          : `${REALM}, error="invalid_token", error_description="${verdict.description.replace(/["\\]/g, "")}"`,
      );
      return sendError(reply, 401, "unauthorized", verdict.description);
    });

    scope.post("/v1/dispatch", async (request, reply) => {
      const key = request.headers["idempotency-key"];
      try {
        const answer = await core.dispatch(
          request.body as Parameters<AgentCore["dispatch"]>[0],
          (Array.isArray(key) ? key[0] : key) as string,
        );
        return reply.code(202).send(answer);
      } catch (error) {
        if (error instanceof AgentRejectedError)
          return sendError(
            reply,
            error.status,
            error.code ?? "rejected",
            error.message,
            error.field,
          );
        if (error instanceof AgentTransientError) {
          reply.header("retry-after", retryAfterSeconds(error.retryAfterMs));
          return error.message === "in_progress"
            ? sendError(
                reply,
                409,
                "in_progress",
                "a send with this Idempotency-Key is in progress; retry later",
              )
            : sendError(reply, 503, "channel_unavailable", error.message);
        }
        throw error;
      }
    });

    scope.get("/v1/inbox", async (request, reply) => {
      const query = InboxQuery.safeParse(request.query);
      if (!query.success) {
        const issue = query.error.issues[0]!;
        const field = issue.path.map(String).join(".");
        return sendError(reply, 400, "invalid_request", `${field}: ${issue.message}`, field);
      }
      const { leadId, channel, limit } = query.data;
      const rows = await db
        .select()
        .from(agentInbox)
        .where(
          and(
            leadId ? eq(agentInbox.leadId, leadId) : undefined,
            channel ? eq(agentInbox.channel, channel) : undefined,
          ),
        )
        .orderBy(desc(agentInbox.id))
        .limit(limit);
      return reply.send({ items: rows.map((r) => ({ ...r, at: r.at.toISOString() })) });
    });
  });
}
