/**
 * Subscriptions as every service makes them: decoded with the topic's schema, the
 * handler run inside the event's trace — with Sentry on, inside a span per event that
 * continues it (batches too), a parked message captured as an error grouped by cause —
 * and handed a logger bound to `eventId`, `leadId` and `traceId`; the handler's result word counted per topic; the service's outbox
 * relays woken once it returns, so what it enqueued leaves at once.
 */
import { type Bus, type HandlerContext, type Subscription, subscribeTopic } from "@pw/bus";
import type { TopicEvent, TopicName } from "@pw/events";
import { eventLogger, type Logger } from "@pw/logger";
import { type Attributes, captureError, startEventSpan } from "@pw/telemetry";
import type { ServiceMetrics } from "./metrics.ts";
import { activeTraceparent, withEventSpans, withTrace } from "./trace.ts";

/** What a span says about the event it handles: ids and the journey's facts, never people. */
const latencyMs = (time: string | undefined) => {
  const at = time ? Date.parse(time) : Number.NaN;
  return Number.isFinite(at) ? Math.max(0, Date.now() - at) : undefined;
};

export function eventAttributes(
  service: string,
  topic: string,
  event: { id: string; type: string; subject: string; time?: string; data?: unknown },
): Attributes {
  const d = (event.data ?? {}) as Record<string, unknown>;
  const model = (d.model ?? {}) as Record<string, unknown>;
  const primitive = (v: unknown) =>
    typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : undefined;
  return {
    "pw.service": service,
    "messaging.destination.name": topic,
    "messaging.message.id": event.id,
    // The outbox and the broker between the cause and this handler (Sentry's Queues view).
    "messaging.message.receive.latency": latencyMs(event.time),
    "event.type": event.type,
    "lead.id": event.subject,
    segment: primitive(d.segment),
    variant: primitive(d.variantId),
    score: primitive(d.score),
    tier: primitive(d.tier),
    scorer: primitive(model.scorer),
    "fallback.reason": primitive(model.fallbackReason),
    channel: primitive(d.channel),
    "cadence.step": primitive(d.cadenceStep),
    status: primitive(d.status),
    outcome: primitive(d.outcome),
    rewarded: primitive(d.rewarded),
  };
}

/** What a handler gets besides the event. */
export type EventContext = HandlerContext & { log: Logger };

// biome-ignore lint/suspicious/noConfusingVoidType: a handler may return nothing
export type Handled = string | void;

export type SubscriptionSpec<T extends TopicName> = {
  topic: T;
  /** Consumer group; defaults to the service's name. */
  groupId?: string;
  /** Returns a word for the metrics (`emitted`, `duplicate`, …). */
  handler: (event: TopicEvent<T>, ctx: EventContext) => Promise<Handled>;
  /** Consecutive events of a partition together (one transaction); one result per event. */
  batch?: {
    maxSize: number;
    handler: (events: TopicEvent<T>[], ctx: { log: Logger }) => Promise<Handled[]>;
  };
  maxAttempts?: number;
  fromBeginning?: boolean;
};

export function subscriber(deps: {
  bus: Bus;
  service: string;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Called after every handled event or batch (wakes the outbox relays). */
  afterHandled: () => void;
  /** Called for each message parked in a DLQ (counted for the heartbeat). */
  onDeadLetter?: (parked: { topic: string; error: string; reason: string }) => void;
}) {
  const { bus, logger, metrics } = deps;
  return async function subscribe<T extends TopicName>(
    spec: SubscriptionSpec<T>,
  ): Promise<Subscription> {
    const count = (result: Handled) =>
      metrics.events.inc({ topic: spec.topic, result: result || "handled" });
    const span = (event: TopicEvent<T>) =>
      startEventSpan({
        name: `${spec.topic} process`,
        op: "queue.process",
        traceparent: event.traceparent,
        attributes: () => eventAttributes(deps.service, spec.topic, event),
      });
    const bound = (event: TopicEvent<T>) =>
      eventLogger(logger, {
        eventId: event.id,
        leadId: event.subject,
        traceparent: activeTraceparent(),
      });
    const batch = spec.batch;
    return subscribeTopic(bus, {
      groupId: spec.groupId ?? deps.service,
      topic: spec.topic,
      ...(spec.maxAttempts ? { maxAttempts: spec.maxAttempts } : {}),
      ...(spec.fromBeginning !== undefined ? { fromBeginning: spec.fromBeginning } : {}),
      onDeadLetter: (parked) => {
        metrics.deadLettered.inc({ topic: parked.topic, reason: parked.reason });
        // Grouped by where and why it was parked, not by the message's text.
        captureError(new Error(`parked in the DLQ: ${parked.error}`), {
          fingerprint: ["dlq", deps.service, parked.topic, parked.reason],
          tags: { "pw.service": deps.service, topic: parked.topic, reason: parked.reason },
        });
        deps.onDeadLetter?.(parked);
      },
      handler: async (event, ctx) => {
        const s = span(event);
        const spans = s.traceparent ? new Map([[event.id, s.traceparent]]) : undefined;
        try {
          await withTrace(
            s.traceparent ?? event.traceparent,
            async () => {
              const result = await spec.handler(event, { ...ctx, log: bound(event) });
              s.set({ result: result || "handled" });
              count(result);
              metrics.batchSize.observe({ topic: spec.topic }, 1);
              deps.afterHandled();
            },
            spans,
          );
          s.end();
        } catch (error) {
          s.end(error);
          throw error;
        }
      },
      ...(batch
        ? {
            batch: {
              maxSize: batch.maxSize,
              handler: async (items: { event: TopicEvent<T> }[]) => {
                // A batch spans several leads' traces, so none is active: the batch
                // handler continues each event's trace itself (`continueTrace`).
                const events = items.map((i) => i.event);
                // A span per event, each in its own lead's trace.
                const spans = events.map(span);
                const byId = new Map<string, string>();
                events.forEach((e, i) => {
                  const t = spans[i]!.traceparent;
                  if (t) byId.set(e.id, t);
                });
                let results: Handled[];
                try {
                  results = await withEventSpans(byId, () =>
                    batch.handler(events, {
                      log: logger.child({ batch: events.length, topic: spec.topic }),
                    }),
                  );
                } catch (error) {
                  for (const s of spans) s.end(error);
                  throw error;
                }
                results.forEach((r, i) => {
                  spans[i]!.set({ result: r || "handled", "batch.size": events.length });
                  spans[i]!.end();
                });
                for (const r of results) count(r);
                metrics.batchSize.observe({ topic: spec.topic }, events.length);
                deps.afterHandled();
              },
            },
          }
        : {}),
    });
  };
}
