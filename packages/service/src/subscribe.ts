/**
 * Subscriptions as every service makes them: decoded with the topic's schema, the
 * handler run inside the event's trace and handed a logger bound to `eventId`, `leadId`
 * and `traceId`; the handler's result word counted per topic; the service's outbox
 * relays woken once it returns, so what it enqueued leaves at once.
 */
import { type Bus, type HandlerContext, type Subscription, subscribeTopic } from "@pw/bus";
import type { TopicEvent, TopicName } from "@pw/events";
import { eventLogger, type Logger } from "@pw/logger";
import type { ServiceMetrics } from "./metrics.ts";
import { activeTraceparent, withTrace } from "./trace.ts";

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
        deps.onDeadLetter?.(parked);
      },
      handler: (event, ctx) =>
        withTrace(event.traceparent, async () => {
          const result = await spec.handler(event, { ...ctx, log: bound(event) });
          count(result);
          metrics.batchSize.observe({ topic: spec.topic }, 1);
          deps.afterHandled();
        }),
      ...(batch
        ? {
            batch: {
              maxSize: batch.maxSize,
              handler: async (items: { event: TopicEvent<T> }[]) => {
                // A batch spans several leads' traces, so none is active: the batch
                // handler continues each event's trace itself (`continueTrace`).
                const events = items.map((i) => i.event);
                const results = await batch.handler(events, {
                  log: logger.child({ batch: events.length, topic: spec.topic }),
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
