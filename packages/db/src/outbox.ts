/**
 * Transactional outbox. A service writes its state change and the events it
 * causes in one transaction (`enqueue` with the transaction); the relay then
 * publishes unpublished rows in order and marks them. If the process dies
 * between publish and mark, the rows are published again: at-least-once, and
 * consumers dedupe by event id (inbox). Nothing committed is ever lost, and
 * nothing rolled back is ever published.
 */

import type { AnyEnvelope } from "@pw/events";
import type { Logger } from "@pw/logger";
import { asc, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Db, Executor } from "./client.ts";
import type { OutboxTable } from "./schema/messaging.ts";

export type OutboxEvent = {
  eventId: string;
  topic: string;
  key: string;
  /** The whole envelope, as published. */
  payload: AnyEnvelope;
  headers?: Record<string, string>;
};

export type RelayRecord = {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
};

/** Inside the caller's transaction. A repeated event id is ignored (idempotent retries). */
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

export type OutboxRelayOptions = {
  db: Db;
  table: OutboxTable;
  /** Must resolve only once the broker acknowledged every record. */
  publish: (records: RelayRecord[]) => Promise<void>;
  batchSize?: number;
  pollIntervalMs?: number;
  logger?: Logger;
};

export type OutboxRelay = {
  /** Publishes one batch; returns how many rows it published. */
  drainOnce(): Promise<number>;
  start(): void;
  /** Wakes the relay now (e.g. right after a commit) instead of at the next poll. */
  notify(): void;
  stop(): Promise<void>;
};

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, table, publish } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let failures = 0;

  async function drainOnce(): Promise<number> {
    // The row locks are held while publishing, so two relays never publish the same
    // rows at once (SKIP LOCKED lets the other take the next rows instead of waiting).
    return db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(table)
        .where(isNull(table.publishedAt))
        .orderBy(asc(table.id))
        .limit(batchSize)
        .for("update", { skipLocked: true });
      if (rows.length === 0) return 0;
      await publish(
        rows.map((r) => ({
          topic: r.topic,
          key: r.key,
          value: JSON.stringify(r.payload),
          headers: r.headers,
        })),
      );
      await tx
        .update(table)
        .set({ publishedAt: sql`now()` })
        .where(
          inArray(
            table.id,
            rows.map((r) => r.id),
          ),
        );
      return rows.length;
    });
  }

  async function run() {
    while (running) {
      let published = 0;
      try {
        published = await drainOnce();
        failures = 0;
      } catch (error) {
        failures++;
        options.logger?.error(
          { err: error, failures },
          "outbox relay: publish failed; rows kept for retry",
        );
      }
      if (published === batchSize && failures === 0) continue;
      const delay =
        failures > 0 ? Math.min(10_000, pollIntervalMs * 2 ** failures) : pollIntervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    drainOnce,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    notify() {
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

/** Housekeeping: published rows older than `before` are no longer needed. */
export async function pruneOutbox(db: Executor, table: OutboxTable, before: Date): Promise<number> {
  const deleted = await db
    .delete(table)
    .where(lt(table.publishedAt, before))
    .returning({ id: table.id });
  return deleted.length;
}
