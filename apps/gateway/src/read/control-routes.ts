/**
 * The read routes of the command center's controls (role: viewer): the approval queue
 * (`GET /api/approvals`) and the scoring model's versions (`GET /api/models`).
 */
import type { Db } from "@pw/db";
import type { FastifyInstance, preHandlerHookHandler } from "fastify";
import { ApprovalsQuery, listApprovals } from "./approvals.ts";
import { listModels, ModelsQuery } from "./models.ts";
import { parse } from "./query.ts";

export function registerControlRoutes(
  app: FastifyInstance,
  o: { db: Db; viewer: { preHandler: preHandlerHookHandler } },
): void {
  app.get("/api/approvals", o.viewer, async (req, reply) => {
    const q = parse(ApprovalsQuery, req.query, reply);
    if (!q) return reply;
    return listApprovals(o.db, q);
  });

  app.get("/api/models", o.viewer, async (req, reply) => {
    const q = parse(ModelsQuery, req.query, reply);
    if (!q) return reply;
    return listModels(o.db, q);
  });
}
