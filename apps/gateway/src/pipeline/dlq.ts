/**
 * The DLQ view and redrive behind the Health page.
 *
 * The view: the gateway reads every `<topic>.dlq` with a consumer group of its own (one
 * per gateway process, from the beginning of what the broker retains) and keeps the
 * latest parked messages in memory, bounded — where each failed, why, when, which group
 * gave up — never the message itself (it may carry a lead's personal data). How many
 * wait in each DLQ is the DLQ tool's own count (`pnpm dlq depth`), cached briefly.
 *
 * Redrive is the DLQ tool's (`pnpm dlq redrive`, ADR 0002): the original key, value and
 * headers are published again to the original topic, and the DLQ's handled position
 * moves past them, so the tool never redrives a message twice. Every group on the topic
 * sees it again: the group that parked it handles it — its inbox row was written in the
 * transaction that failed, so it was rolled back with it and nothing dedupes the redrive
 * away — and the groups that had handled it skip it through their inbox (or, for the
 * gateway's own projection, the stream's unique event id). One redrive at a time per
 * gateway process; two gateways redriving the same message at once could both publish
 * it, which the inboxes absorb (ADR 0002's "one operator at a time").
 */
import {
  type Bus,
  type DlqActionResult,
  type DlqSelector,
  type DlqTool,
  type ParkedMessage,
  type Subscription,
  toParked,
} from "@pw/bus";
import { dlqTopic } from "@pw/events";
import type { Logger } from "@pw/logger";

/** Parked messages kept in memory for the view, across all DLQs. */
export const DLQ_VIEW_MAX = 500;
const DEPTH_CACHE_MS = 5_000;

export type DlqEntry = {
  /** The original topic. */
  topic: string;
  partition: number;
  offset: string;
  key: string;
  eventId: string | null;
  eventType: string | null;
  /** `dlq-error` (credentials already redacted by the consumer), at most 500 characters. */
  reason: string;
  /** `dlq-reason`: poison, non-retryable, validation, attempts-exhausted. */
  failureKind: string | null;
  errorClass: string | null;
  attempts: number;
  consumerGroup: string | null;
  parkedAt: string;
  /** Where it waits now (a re-parked copy moves to the DLQ's tail). */
  dlqPartition: number;
  dlqOffset: string;
  /** Set once this gateway redrove it (a redrive with `pnpm dlq` is not seen here). */
  redriven: { at: string; by: string; auditId: number } | null;
};

export type DlqDepthView = { topic: string; dlqTopic: string; waiting: number | null };

/** One parking of one message: equal for a copy the tool re-parked at the DLQ's tail. */
const copyKey = (m: ParkedMessage) =>
  `${m.originalTopic}/${m.originalPartition}/${m.originalOffset} ${m.consumerGroup} ${m.parkedAt}`;
const originalKey = (e: { topic: string; partition: number; offset: string }) =>
  `${e.topic}/${e.partition}/${e.offset}`;

export function dlqWatch(o: {
  bus: Bus;
  tool: DlqTool | undefined;
  logger: Logger;
  /** Its own per process: each gateway keeps its own view. */
  groupId: string;
  max?: number;
}) {
  const max = o.max ?? DLQ_VIEW_MAX;
  /** Insertion order = arrival order; the oldest go first past `max`. */
  const entries = new Map<string, DlqEntry>();
  /** Per list of topics asked for: when it was read, and what. */
  const depthCache = new Map<string, { at: number; value: Promise<DlqDepthView[]> }>();
  let queue: Promise<unknown> = Promise.resolve();

  function add(m: ParkedMessage) {
    const key = copyKey(m);
    const existing = entries.get(key);
    if (existing) {
      existing.dlqPartition = m.dlqPartition;
      existing.dlqOffset = m.dlqOffset;
      return;
    }
    entries.set(key, {
      topic: m.originalTopic,
      partition: m.originalPartition,
      offset: m.originalOffset,
      key: m.key,
      eventId: m.eventId ?? null,
      eventType: m.eventType ?? null,
      reason: m.reason.length > 500 ? `${m.reason.slice(0, 499)}…` : m.reason,
      failureKind: m.failureKind ?? null,
      errorClass: m.errorClass ?? null,
      attempts: m.attempts,
      consumerGroup: m.consumerGroup ?? null,
      parkedAt: m.parkedAt,
      dlqPartition: m.dlqPartition,
      dlqOffset: m.dlqOffset,
      redriven: null,
    });
    while (entries.size > max) entries.delete(entries.keys().next().value!);
  }

  return {
    /** Reads the DLQ of each topic with this gateway's group; close them at stop. */
    async subscribe(topics: readonly string[]): Promise<Subscription[]> {
      const subs: Subscription[] = [];
      for (const topic of topics) {
        subs.push(
          await o.bus.subscribe({
            groupId: o.groupId,
            topic: dlqTopic(topic),
            format: "raw",
            decode: (value) => value as string,
            handler: async (_value, { message }) => add(toParked(message)),
          }),
        );
      }
      return subs;
    },

    /** Newest first. */
    list(filter: { topic?: string | undefined; limit: number }): DlqEntry[] {
      const out: DlqEntry[] = [];
      for (const e of [...entries.values()].reverse()) {
        if (filter.topic && e.topic !== filter.topic) continue;
        out.push(e);
        if (out.length >= filter.limit) break;
      }
      return out;
    },

    retained: () => entries.size,

    /** How many wait in each DLQ (the tool's count); null where it could not be read. */
    depth(topics: readonly string[]): Promise<DlqDepthView[]> {
      const key = topics.join(",");
      const cached = depthCache.get(key);
      if (cached && Date.now() - cached.at < DEPTH_CACHE_MS) return cached.value;
      const value = (async () => {
        if (!o.tool) return topics.map((t) => ({ topic: t, dlqTopic: dlqTopic(t), waiting: null }));
        try {
          const depths = await o.tool.dlqDepth([...topics]);
          return depths.map((d) => ({ topic: d.topic, dlqTopic: d.dlqTopic, waiting: d.waiting }));
        } catch (error) {
          o.logger.warn({ err: error }, "DLQ depth unavailable");
          depthCache.delete(key);
          return topics.map((t) => ({ topic: t, dlqTopic: dlqTopic(t), waiting: null }));
        }
      })();
      depthCache.set(key, { at: Date.now(), value });
      return value;
    },

    /**
     * Redrives the selected parked messages of `topic` with the DLQ tool, one redrive at a
     * time in this process. Throws DlqSelectionError when nothing (or, for one-message
     * selectors, more than one message) matches.
     */
    redrive(
      topic: string,
      which: DlqSelector,
      mark: NonNullable<DlqEntry["redriven"]>,
    ): Promise<DlqActionResult> {
      const run = queue.then(async () => {
        if (!o.tool) throw new Error("no DLQ tool for this bus");
        const result = await o.tool.redrive({ topic, which });
        depthCache.clear();
        const redriven = new Set(
          result.handled.map((m) =>
            originalKey({
              topic: m.originalTopic,
              partition: m.originalPartition,
              offset: m.originalOffset,
            }),
          ),
        );
        for (const e of entries.values()) if (redriven.has(originalKey(e))) e.redriven = mark;
        return result;
      });
      queue = run.catch(() => {});
      return run;
    },
  };
}
export type DlqWatch = ReturnType<typeof dlqWatch>;
