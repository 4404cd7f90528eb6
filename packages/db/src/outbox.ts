/**
 * Transactional outbox storage. A service writes its state change and the events it
 * causes in one transaction; the relay (`@pw/service`) then publishes unpublished rows in
 * order and marks them. If the process dies between publish and mark, the rows are
 * published again: at-least-once, and consumers dedupe by event id (inbox). Nothing
 * committed is ever lost, and nothing rolled back is ever published. Services write
 * through the kit's typed outbox, which checks each event first; `enqueue` here stores.
 * A row the broker refuses for good is quarantined (kept, skipped); `outboxStats` tells
 * how far behind the relay is.
 */

import type { AnyEnvelope } from "@pw/events";
import { lt, sql } from "drizzle-orm";
import { type Executor, queryRows } from "./client.ts";
import type { OutboxTable } from "./schema/messaging.ts";

export type OutboxEvent = {
  eventId: string;
  topic: string;
  key: string;
  /** The whole envelope, as published. */
  payload: AnyEnvelope;
  headers?: Record<string, string>;
};

export async function enqueue(
  tx: Executor,
  table: OutboxTable,
  events: OutboxEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await tx
    .insert(table)
    .values(
      events.map((e) => ({
        eventId: e.eventId,
        topic: e.topic,
        key: e.key,
        payload: e.payload,
        headers: e.headers ?? {},
      })),
    )
    .onConflictDoNothing({ target: table.eventId });
}

/** Housekeeping: published rows older than `before` are no longer needed. */
export async function pruneOutbox(db: Executor, table: OutboxTable, before: Date): Promise<number> {
  const deleted = await db
    .delete(table)
    .where(lt(table.publishedAt, before))
    .returning({ id: table.id });
  return deleted.length;
}

export type OutboxStats = {
  /** Rows waiting for the relay (quarantined rows excluded). */
  unpublished: number;
  /** Age of the oldest of them (0 when there is none). */
  oldestAgeMs: number;
  /** Rows the relay gave up on; they wait for an operator. */
  quarantined: number;
};

/**
 * How far behind the relay is. Reads only unpublished rows (the partial index on them), so
 * it stays cheap however many published rows are kept for inspection.
 */
export async function outboxStats(db: Executor, table: OutboxTable): Promise<OutboxStats> {
  const [row] = await queryRows<{
    unpublished: number;
    oldest_age_ms: number | string | null;
    quarantined: number;
  }>(
    db,
    sql`select
          count(*) filter (where ${table.quarantinedAt} is null)::int as unpublished,
          (extract(epoch from now() - min(${table.createdAt})
            filter (where ${table.quarantinedAt} is null)) * 1000)::float8 as oldest_age_ms,
          count(*) filter (where ${table.quarantinedAt} is not null)::int as quarantined
        from ${table} where ${table.publishedAt} is null`,
  );
  return {
    unpublished: Number(row?.unpublished ?? 0),
    oldestAgeMs: Math.max(0, Math.round(Number(row?.oldest_age_ms ?? 0))),
    quarantined: Number(row?.quarantined ?? 0),
  };
}
