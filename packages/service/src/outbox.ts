/**
 * The typed outbox and its relay.
 *
 * `enqueue(tx, topic, events)` checks each event against its topic's schema and its size
 * against the message limit, and stores the message exactly as a direct publish would send
 * it (key, value and the `ce-*` / `content-type` / `schema-version` / `traceparent`
 * headers), in the caller's transaction.
 *
 * The relay publishes every service's outbox without holding a transaction (or a row lock)
 * across a publish: read the oldest unpublished rows, publish them, mark them published.
 * One drain runs at a time per table across all instances (relay-lock.ts), so each key's
 * rows reach the broker in id order. A row the broker refuses for good (not `isTransient`:
 * too large, invalid) is quarantined with the reason and the rows after it go on. At least
 * once: a crash between publish and mark publishes a row again, and consumers dedupe by
 * event id (inbox); a mark that fails is retried before anything new is published, so a
 * database outage alone does not duplicate.
 */
import { type Bus, headersOf, NonRetryableError, type OutgoingMessage } from "@pw/bus";
import { type DbHandle, type Executor, enqueue as insertRows, type OutboxTable } from "@pw/db";
import { type AnyEnvelope, type TopicEvent, type TopicName, TopicSchemas } from "@pw/events";
import type { Logger } from "@pw/logger";
import { backoffDelay, isTransient } from "@pw/resilience";
import { captureError } from "@pw/telemetry";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { ServiceMetrics } from "./metrics.ts";
import { reasonOf } from "./reason.ts";
import { relayLock } from "./relay-lock.ts";
import { activeTraceparent, childTraceparent } from "./trace.ts";

/**
 * The message limit when none is configured: just under Kafka's default
 * `max.message.bytes` (1 MiB + 12), leaving room for the record's own overhead.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_000_000;

/** An event that does not match its topic's schema: a bug in the producer, never stored. */
/** Deterministic: a handler that produces it fails the same way every time (DLQ at once). */
export class InvalidEventError extends NonRetryableError {
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

/** An event the broker would refuse for its size: refused here, before it is stored. */
export class EventTooLargeError extends NonRetryableError {
  readonly topic: string;
  readonly bytes: number;
  readonly limitBytes: number;
  constructor(topic: string, eventId: unknown, bytes: number, limitBytes: number) {
    super(
      `${topic} event ${String(eventId)} is ${bytes} bytes; the limit is ${limitBytes} bytes (OUTBOX_MAX_MESSAGE_BYTES)`,
    );
    this.name = "EventTooLargeError";
    this.topic = topic;
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}

/** A message's size as the broker counts it, near enough: key, value and headers. */
export function messageBytes(m: OutgoingMessage): number {
  let bytes = Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {}))
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}

/**
 * Rows enqueued per outbox table in this process: the relay is woken after a handler only
 * when something was enqueued (an idle wake-up costs a database round trip).
 */
const enqueued = new WeakMap<OutboxTable, number>();

/**
 * The configured message limit per table, set by the kit (`messaging`) from
 * OUTBOX_MAX_MESSAGE_BYTES, so that an app's own module-level `typedOutbox(table)` keeps it.
 */
const configuredLimits = new WeakMap<OutboxTable, number>();

export function setMessageLimit(table: OutboxTable, bytes: number | undefined): void {
  if (bytes === undefined) configuredLimits.delete(table);
  else configuredLimits.set(table, bytes);
}

export type TypedOutbox = {
  readonly table: OutboxTable;
  /**
   * Inside the caller's transaction. A repeated event id is ignored (idempotent retries).
   * Throws InvalidEventError or EventTooLargeError and stores nothing of the batch.
   */
  enqueue<T extends TopicName>(tx: Executor, topic: T, events: TopicEvent<T>[]): Promise<void>;
};

export function typedOutbox(
  table: OutboxTable,
  options: { maxMessageBytes?: number } = {},
): TypedOutbox {
  return {
    table,
    async enqueue(tx, topic, events) {
      if (events.length === 0) return;
      const limit =
        options.maxMessageBytes ?? configuredLimits.get(table) ?? DEFAULT_MAX_MESSAGE_BYTES;
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
        const headers = headersOf(traced);
        const bytes = messageBytes({ key: traced.subject, value: JSON.stringify(traced), headers });
        if (bytes > limit) throw new EventTooLargeError(topic, traced.id, bytes, limit);
        return { eventId: traced.id, topic, key: traced.subject, payload: traced, headers };
      });
      await insertRows(tx, table, rows);
      enqueued.set(table, (enqueued.get(table) ?? 0) + rows.length);
    },
  };
}

export type OutboxRelay = {
  /**
   * Publishes one batch and marks it; returns how many rows it settled (published or
   * quarantined). 0 when there is nothing to do or another instance is draining.
   */
  drainOnce(): Promise<number>;
  start(): void;
  /** Wakes the relay now (e.g. right after a commit) instead of at the next poll. */
  notify(): void;
  /** Wakes the relay if anything was enqueued on its table since it last looked. */
  notifyIfEnqueued(): void;
  stop(): Promise<void>;
};

type Row = OutboxTable["$inferSelect"];
type Quarantine = { row: Row; reason: string };

export function createRelay(options: {
  handle: DbHandle;
  table: OutboxTable;
  bus: Bus;
  logger?: Logger;
  metrics?: ServiceMetrics;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Default: the table's configured limit (`setMessageLimit`), else DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}): OutboxRelay {
  const { handle, table, bus, logger } = options;
  const db = handle.db;
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const limit = () =>
    options.maxMessageBytes ?? configuredLimits.get(table) ?? DEFAULT_MAX_MESSAGE_BYTES;
  const lock = relayLock(handle, table);
  let running = false;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let woken = false;
  let failures = 0;
  let seen = 0;
  // Settled on the broker's side but not yet in the table (the mark failed): marked before
  // anything else is read, or the next read would publish them again.
  const toMark = new Set<number>();
  const toQuarantine = new Map<number, string>();

  const unsettled = and(isNull(table.publishedAt), isNull(table.quarantinedAt));

  async function flushMarks() {
    if (toMark.size > 0) {
      await db
        .update(table)
        .set({ publishedAt: sql`now()` })
        .where(inArray(table.id, [...toMark]));
      toMark.clear();
    }
    for (const [id, reason] of toQuarantine) {
      await db
        .update(table)
        .set({ quarantinedAt: sql`now()`, quarantineReason: reason })
        .where(and(eq(table.id, id), isNull(table.publishedAt)));
      toQuarantine.delete(id);
    }
  }

  const message = (r: Row): OutgoingMessage => ({
    key: r.key,
    value: JSON.stringify(r.payload),
    headers: r.headers,
  });

  /** A row with its message serialised once (sizing, chunking and sending all need it). */
  type Prepared = { row: Row; message: OutgoingMessage; bytes: number };

  /** Undefined when the broker acknowledged; the error otherwise. */
  async function send(topic: string, rows: Prepared[]): Promise<unknown> {
    try {
      await bus.publish(
        topic,
        rows.map((p) => p.message),
      );
      options.metrics?.outboxPublished.inc({ topic }, rows.length);
      return undefined;
    } catch (error) {
      return error ?? new Error("publish failed");
    }
  }

  /** Rows of one topic in id order, in requests of at most the message limit in total. */
  function* chunks(rows: Prepared[]): Generator<Prepared[]> {
    let chunk: Prepared[] = [];
    let bytes = 0;
    for (const p of rows) {
      if (chunk.length > 0 && bytes + p.bytes > limit()) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(p);
      bytes += p.bytes;
    }
    if (chunk.length > 0) yield chunk;
  }

  async function publish(rows: Row[]) {
    const published: Row[] = [];
    const quarantined: Quarantine[] = [];
    let failure: unknown;
    // A row the broker can never take is not sent: one oversized message would fail the
    // whole request it travels in, its neighbours included.
    const byTopic = new Map<string, Prepared[]>();
    for (const r of rows) {
      const m = message(r);
      const bytes = messageBytes(m);
      if (bytes > limit()) {
        quarantined.push({
          row: r,
          reason: `message of ${bytes} bytes exceeds the limit of ${limit()} bytes (OUTBOX_MAX_MESSAGE_BYTES)`,
        });
        continue;
      }
      const list = byTopic.get(r.topic);
      if (list) list.push({ row: r, message: m, bytes });
      else byTopic.set(r.topic, [{ row: r, message: m, bytes }]);
    }
    // A failure the environment will get over (or a stop) ends this topic's part of the
    // drain: its later rows must not overtake the ones that failed.
    const giveUp = (error: unknown) => {
      if (!isTransient(error) && !stopping) return false;
      failure ??= error;
      return true;
    };
    await Promise.all(
      [...byTopic].map(async ([topic, topicRows]) => {
        for (const chunk of chunks(topicRows)) {
          const error = await send(topic, chunk);
          if (error === undefined) {
            for (const p of chunk) published.push(p.row);
            continue;
          }
          if (giveUp(error)) return;
          // Refused for good: find which row, sending each alone, in order.
          for (const p of chunk) {
            const alone = chunk.length === 1 ? error : await send(topic, [p]);
            if (alone === undefined) {
              published.push(p.row);
              continue;
            }
            if (giveUp(alone)) return;
            quarantined.push({ row: p.row, reason: reasonOf(alone) });
          }
        }
      }),
    );
    return { published, quarantined, failure };
  }

  async function drainOnce(): Promise<number> {
    await flushMarks();
    // Kept by a drain whose mark failed (below); the rows are marked now.
    await lock.release();
    // Cheap look first: an idle relay costs one query per poll, not a lock round trip.
    const [next] = await db.select({ id: table.id }).from(table).where(unsettled).limit(1);
    if (!next) return 0;
    if (!(await lock.tryAcquire())) return 0;
    try {
      const rows = await db
        .select()
        .from(table)
        .where(unsettled)
        .orderBy(asc(table.id))
        .limit(batchSize);
      if (rows.length === 0) return 0;
      const { published, quarantined, failure } = await publish(rows);
      for (const r of published) toMark.add(r.id);
      for (const q of quarantined) {
        toQuarantine.set(q.row.id, q.reason);
        options.metrics?.outboxQuarantined.inc({ topic: q.row.topic });
        logger?.error(
          { eventId: q.row.eventId, topic: q.row.topic, key: q.row.key, reason: q.reason },
          "outbox row quarantined: the broker refuses it for good; the rows after it go on",
        );
        captureError(new Error(`outbox row quarantined: ${q.reason}`), {
          fingerprint: ["outbox-quarantine", q.row.topic, q.reason.split(":")[0] ?? q.reason],
          tags: { topic: q.row.topic, "event.id": q.row.eventId },
        });
      }
      await flushMarks();
      if (failure !== undefined) throw failure;
      return published.length + quarantined.length;
    } finally {
      // Rows published but not marked keep the lock: another instance would read them as
      // unpublished and send them again. The next drain marks them first, then releases.
      if (toMark.size === 0 && toQuarantine.size === 0) await lock.release();
    }
  }

  async function run() {
    while (running) {
      let settled = 0;
      woken = false;
      try {
        settled = await drainOnce();
        failures = 0;
      } catch (error) {
        failures++;
        if (isTransient(error))
          logger?.warn(
            { reason: reasonOf(error), failures },
            "outbox relay: broker or database unavailable; rows kept for retry",
          );
        else logger?.error({ err: error, failures }, "outbox relay failed; rows kept for retry");
      }
      if (!running) break;
      if ((settled === batchSize || woken) && failures === 0) continue;
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
      stopping = false;
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
      stopping = true;
      wake?.();
      await loop;
      // One last try, so that a restart does not publish these again.
      await flushMarks().catch(() => {});
      await lock.close();
    },
  };
}
