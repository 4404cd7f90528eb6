/**
 * Transactional outbox storage. A service writes its state change and the events it
 * causes in one transaction; the relay (`@pw/service`) then publishes unpublished rows in
 * order and marks them. If the process dies between publish and mark, the rows are
 * published again: at-least-once, and consumers dedupe by event id (inbox). Nothing
 * committed is ever lost, and nothing rolled back is ever published. Services write
 * through the kit's typed outbox, which checks each event first; `enqueue` here stores.
 */

import type { AnyEnvelope } from "@pw/events";
import { lt } from "drizzle-orm";
import type { Executor } from "./client.ts";
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
