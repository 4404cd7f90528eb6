/**
 * Stream rows: what the gateway stored of each event (`gateway.stream_events`) in the
 * shape live clients receive, and the one query that reads them back in `seq` order
 * for a filter (a reconnecting client's backlog, the hub catching up on rows written by
 * another instance).
 */
import type { Executor } from "@pw/db";
import { streamEvents } from "@pw/db/gateway";
import { and, asc, eq, gt, inArray, type SQL } from "drizzle-orm";

/** One stored event, as sent to live clients (`data:` of an SSE frame). */
export type StreamRow = {
  seq: number;
  topic: string;
  type: string;
  subject: string;
  /** The event's time (ISO 8601). */
  at: string;
  data: Record<string, unknown>;
};

/** What a live view wants: some topics (absent: all) and/or one lead's events. */
export type StreamFilter = { topics?: readonly string[] | undefined; lead?: string | undefined };

export function matches(filter: StreamFilter, row: StreamRow): boolean {
  if (filter.topics && !filter.topics.includes(row.topic)) return false;
  if (filter.lead !== undefined && row.subject !== filter.lead) return false;
  return true;
}

export function toRow(r: typeof streamEvents.$inferSelect): StreamRow {
  return {
    seq: Number(r.seq),
    topic: r.topic,
    type: r.type,
    subject: r.subject,
    at: r.at.toISOString(),
    data: r.data,
  };
}

/** Rows after `after` that match `filter`, oldest first, at most `limit`. */
export async function rowsAfter(
  db: Executor,
  o: { after: number; filter?: StreamFilter; limit: number },
): Promise<StreamRow[]> {
  const where: SQL[] = [gt(streamEvents.seq, o.after)];
  if (o.filter?.topics) where.push(inArray(streamEvents.topic, [...o.filter.topics]));
  if (o.filter?.lead !== undefined) where.push(eq(streamEvents.subject, o.filter.lead));
  const rows = await db
    .select()
    .from(streamEvents)
    .where(and(...where))
    .orderBy(asc(streamEvents.seq))
    .limit(o.limit);
  return rows.map(toRow);
}
