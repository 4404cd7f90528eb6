/** The error bodies every /api route shares: `{ error, message }`, plus `issues` for a bad body. */
import type { FastifyReply } from "fastify";
import type { z } from "zod";

export type Issue = { field: string; message: string };

export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ field: i.path.join(".") || "(body)", message: i.message }));
}

/** 400 naming each bad field: `{ error: "invalid_body", message: "variantId: …", issues }`. */
export function invalidBody(reply: FastifyReply, issues: Issue[]) {
  return reply.code(400).send({
    error: "invalid_body",
    message: issues.map((i) => `${i.field}: ${i.message}`).join("; "),
    issues,
  });
}
