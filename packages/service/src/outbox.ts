/**
 * The typed outbox. `enqueue(tx, topic, events)` checks each event against its topic's
 * schema and stores the message exactly as a direct publish would send it (key, value and
 * the `ce-*` / `content-type` / `schema-version` / `traceparent` headers), in the caller's
 * transaction. One relay publishes every service's outbox: unpublished rows in order, then
 * marks them. At-least-once; consumers dedupe by event id (inbox).
 */
import { type Bus, headersOf } from "@pw/bus";
import { type Db, type Executor, enqueue as insertRows, type OutboxTable } from "@pw/db";
import { type AnyEnvelope, type TopicEvent, type TopicName, TopicSchemas } from "@pw/events";
import type { Logger } from "@pw/logger";
import { backoffDelay } from "@pw/resilience";
import { asc, inArray, isNull, sql } from "drizzle-orm";
import type { ServiceMetrics } from "./metrics.ts";
import { activeTraceparent, childTraceparent } from "./trace.ts";

/** An event that does not match its topic's schema: a bug in the producer, never stored. */
export class InvalidEventError extends Error {
  readonly topic: string;
  readonly issues: { path: string; message: string }[];
  constructor(topic: string, eventId: unknown, issues: { path: string; message: string }[]) {
    super(
      `event ${String(eventId)} does not match the schema of ${topic}: ${issues
        .map((i) => `${i.path || "(root)"}: ${i.message}`)
        .join("; ")}`,
    );
    this.name = "InvalidEventError";
    this.topic = topic;
    this.issues = issues;
  }
}

/**
 * Rows enqueued per outbox table in this process: the relay is woken after a handler only
 * when something was enqueued (an idle wake-up costs a database round trip).
 */
const enqueued = new WeakMap<OutboxTable, number>();

export type TypedOutbox = {
  readonly table: OutboxTable;
  /** Inside the caller's transaction. A repeated event id is ignored (idempotent retries). */
  enqueue<T extends TopicName>(tx: Executor, topic: T, events: TopicEvent<T>[]): Promise<void>;
};

export function typedOutbox(table: OutboxTable): TypedOutbox {
  return {
    table,
    async enqueue(tx, topic, events) {
      if (events.length === 0) return;
      const rows = events.map((input) => {
        const checked = TopicSchemas[topic].safeParse(input);
        if (!checked.success) {
          throw new InvalidEventError(
            topic,
            (input as { id?: unknown }).id,
            checked.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
          );
        }
        const event = input as AnyEnvelope;
        const parent = activeTraceparent();
        const traced: AnyEnvelope =
          event.traceparent || !parent
            ? event
            : { ...event, traceparent: childTraceparent(parent) };
        return {
          eventId: traced.id,
          topic,
          key: traced.subject,
          payload: traced,
          headers: headersOf(traced),
        };
      });
      await insertRows(tx, table, rows);
      enqueued.set(table, (enqueued.get(table) ?? 0) + rows.length);
    },
  };
}

export type OutboxRelay = {
  /** Publishes one batch; returns how many rows it published. */
  drainOnce(): Promise<number>;
  start(): void;
  /** Wakes the relay now (e.g. right after a commit) instead of at the next poll. */
  notify(): void;
  /** Wakes the relay if anything was enqueued on its table since it last looked. */
  notifyIfEnqueued(): void;
  stop(): Promise<void>;
};

export function createRelay(options: {
  db: Db;
  table: OutboxTable;
  bus: Bus;
  logger?: Logger;
  metrics?: ServiceMetrics;
  batchSize?: number;
  pollIntervalMs?: number;
}): OutboxRelay {
  const { db, table, bus } = options;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let woken = false;
  let failures = 0;
  let seen = 0;

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
      const byTopic = new Map<string, typeof rows>();
      for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      await Promise.all(
        [...byTopic].map(([topic, rs]) =>
          bus.publish(
            topic,
            rs.map((r) => ({ key: r.key, value: JSON.stringify(r.payload), headers: r.headers })),
          ),
        ),
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
      for (const [topic, rs] of byTopic) options.metrics?.outboxPublished.inc({ topic }, rs.length);
      return rows.length;
    });
  }

  async function run() {
    while (running) {
      let published = 0;
      woken = false;
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
      if (!running) break;
      if ((published === batchSize || woken) && failures === 0) continue;
      const delay =
        failures > 0
          ? backoffDelay(failures, { initialMs: pollIntervalMs, maxMs: 10_000 })
          : pollIntervalMs;
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
      woken = true;
      wake?.();
    },
    notifyIfEnqueued() {
      const count = enqueued.get(table) ?? 0;
      if (count === seen) return;
      seen = count;
      woken = true;
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
