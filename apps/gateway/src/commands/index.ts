/**
 * The command routes: `POST /api/commands/<kind>` (signed, audited, enqueued → 202),
 * `GET /api/audit`, `GET /api/controls`, and `POST /api/playbook/preview`.
 */
import type { Db } from "@pw/db";
import { envelope, type OperatorCommand, signCommand } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { OutboxRelay, TypedOutbox } from "@pw/service";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { invalidBody, issuesOf } from "../auth/errors.ts";
import type { Auth } from "../auth/index.ts";
import { operatorOf } from "../auth/index.ts";
import type { SigningSettings } from "../config.ts";
import { listAudit, publishCommand } from "./audit.ts";
import { controlsState } from "./controls.ts";
import { COMMAND_KINDS, type CommandKind } from "./kinds.ts";
import { render, SAMPLE_FACTS, slotsOf, TEMPLATE_LIMITS, templateProblem } from "./templates.ts";

export { type CommandResult, recordCommandResult, recordConfirmation } from "./audit.ts";
export { COMMAND_KINDS, type CommandKindName } from "./kinds.ts";

export const COMMAND_SOURCE = "pw://gateway";

const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.coerce.number().int().min(1).optional(),
});

const fact = z.string().max(500).optional();
const PreviewBody = z.strictObject({
  subjectTemplate: z.string().max(TEMPLATE_LIMITS.subjectTemplate),
  bodyTemplate: z.string().min(1).max(TEMPLATE_LIMITS.bodyTemplate),
  sample: z
    .strictObject({
      firstName: fact,
      company: fact,
      role: fact,
      industry: fact,
      trigger: fact,
      painPoint: fact,
    })
    .optional(),
});

export function registerCommandRoutes(
  app: FastifyInstance,
  o: {
    db: Db;
    guard: Auth["guard"];
    outbox: TypedOutbox;
    relay: Pick<OutboxRelay, "notify">;
    signing: SigningSettings | undefined;
    logger: Logger;
  },
): void {
  const { db, guard, outbox, relay, signing, logger } = o;

  for (const [name, kind] of Object.entries(COMMAND_KINDS) as [string, CommandKind][]) {
    app.post(`/api/commands/${name}`, { preHandler: guard(kind.role) }, async (req, reply) => {
      if (!signing)
        return reply.code(503).send({
          error: "command signing not configured",
          message:
            "set OPERATOR_COMMAND_PRIVATE_KEY and OPERATOR_COMMAND_KEY_ID (docs/adr/0009-operator-command-auth.md)",
        });
      const body = kind.body.safeParse(req.body ?? {});
      if (!body.success) return invalidBody(reply, issuesOf(body.error));
      const issuer = operatorOf(req);
      const { subject, data } = kind.build(body.data);
      const unsigned = envelope({
        type: kind.type,
        source: COMMAND_SOURCE,
        subject,
        data: { ...data, operator: issuer.username },
      });
      let command: OperatorCommand;
      try {
        command = signCommand(
          unsigned as Parameters<typeof signCommand>[0],
          signing.privateKey,
          signing.keyId,
        );
      } catch (error) {
        // The body schemas are the topic's own, so this is a mismatch between them (a bug).
        if (error instanceof z.ZodError) return invalidBody(reply, issuesOf(error));
        throw error;
      }
      const auditId = await publishCommand(db, outbox, command, issuer);
      relay.notify();
      logger.info(
        { commandId: command.id, commandType: command.type, operator: issuer.username, subject },
        "operator command published",
      );
      return reply.code(202).send({ commandId: command.id, auditId });
    });
  }

  app.get("/api/audit", { preHandler: guard("viewer") }, async (req, reply) => {
    const query = AuditQuery.safeParse(req.query);
    if (!query.success) return invalidBody(reply, issuesOf(query.error));
    return listAudit(db, query.data);
  });

  app.get("/api/controls", { preHandler: guard("viewer") }, async () => controlsState(db));

  app.post("/api/playbook/preview", { preHandler: guard("operator") }, async (req, reply) => {
    const body = PreviewBody.safeParse(req.body ?? {});
    if (!body.success) return invalidBody(reply, issuesOf(body.error));
    const { subjectTemplate, bodyTemplate } = body.data;
    const issues = (["subjectTemplate", "bodyTemplate"] as const).flatMap((field) => {
      const problem = templateProblem(body.data[field], TEMPLATE_LIMITS[field]);
      return problem ? [{ field, message: problem }] : [];
    });
    if (issues.length > 0) return invalidBody(reply, issues);
    const facts = { ...SAMPLE_FACTS, ...body.data.sample };
    return {
      subject: render(subjectTemplate, facts),
      body: render(bodyTemplate, facts),
      slots: [...new Set([...slotsOf(subjectTemplate), ...slotsOf(bodyTemplate)])],
      sample: facts,
    };
  });
}
