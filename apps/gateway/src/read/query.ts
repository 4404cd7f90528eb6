/**
 * Query parameters of the read routes: zod schemas, and one 400 shape that names the
 * field at fault (`{ error: { status, code, message, issues: [{ path, message }] } }`).
 * An empty parameter (`?status=`) means "not given", as forms send it.
 */
import { ALL_TOPICS, LeadId } from "@pw/events";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import { LEAD_STATUSES } from "./status.ts";

const blank = (v: unknown) => (v === "" ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(blank, schema.optional());
const limit = (dflt: number, max: number) =>
  z.preprocess(blank, z.coerce.number().int().min(1).max(max).default(dflt));
/** A seq cursor (the last row of the previous page). */
const seqCursor = opt(z.coerce.number().int().min(0));

export const LeadsQuery = z.object({
  status: opt(z.enum(LEAD_STATUSES)),
  tier: opt(z.enum(["hot", "warm", "cold"])),
  segment: opt(z.string().max(100)),
  q: opt(z.string().max(200)),
  limit: limit(50, 200),
  cursor: opt(z.string().max(500)),
});

export const LeadParams = z.object({ leadId: LeadId });
export const JourneyQuery = z.object({ after: seqCursor, limit: limit(500, 2_000) });
export const ExperimentsQuery = z.object({ segment: opt(z.string().min(1).max(100)) });
export const SegmentParams = z.object({ segment: z.string().min(1).max(100) });
export const HistoryQuery = z.object({ limit: limit(500, 5_000) });

export const OutreachQuery = z.object({
  status: opt(z.enum(["sent", "deferred", "skipped", "failed"])),
  channel: opt(z.enum(["email", "linkedin", "slack", "in_app"])),
  variantId: opt(z.string().max(100)),
  limit: limit(50, 500),
  cursor: seqCursor,
});

export const FunnelQuery = z.object({
  bucket: z.preprocess(blank, z.enum(["minute", "hour", "day"]).default("hour")),
  since: opt(z.iso.datetime({ offset: true })),
});

export const FeedQuery = z.object({ limit: limit(20, 100), cursor: seqCursor });

const Topic = z.enum(ALL_TOPICS as [string, ...string[]]);
export const StreamQuery = z.object({
  topics: opt(
    z
      .string()
      .max(1_000)
      .transform((s) => s.split(",").filter(Boolean))
      .pipe(z.array(Topic).min(1)),
  ),
  lead: opt(LeadId),
  lastEventId: seqCursor,
});
export const LastEventIdHeader = z.coerce.number().int().min(0);

export type Issue = { path: string; message: string };

export function badRequest(reply: FastifyReply, issues: Issue[]): FastifyReply {
  const message = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return reply.code(400).send({ error: { status: 400, code: "invalid_request", message, issues } });
}

/** Parsed input, or undefined once a 400 naming each bad field was sent. */
export function parse<T extends z.ZodType>(
  schema: T,
  input: unknown,
  reply: FastifyReply,
): z.infer<T> | undefined {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  badRequest(
    reply,
    result.error.issues.slice(0, 20).map((i) => ({
      path: i.path.map(String).join(".") || "(query)",
      message: i.message,
    })),
  );
  return undefined;
}

export function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ error: { status: 404, code: "not_found", message } });
}
