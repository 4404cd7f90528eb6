/** One error shape for every 4xx/5xx: status, machine code, message, and the fields at fault. */
import type { FastifyReply } from "fastify";
import type { ZodError } from "zod";

export type Issue = { path: string; message: string };

export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  issues?: Issue[],
): FastifyReply {
  return reply
    .code(status)
    .send({ error: { status, code, message, ...(issues ? { issues } : {}) } });
}

export function zodIssues(error: ZodError): Issue[] {
  return error.issues.slice(0, 20).map((i) => ({
    path: i.path.map(String).join(".") || "(body)",
    message: i.message,
  }));
}
