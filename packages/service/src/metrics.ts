/**
 * One Prometheus registry per service instance (so several services in one process
 * keep their numbers apart), default label `service`, process metrics, and the counters
 * every service shares under one name and one set of labels.
 */
import { businessMetrics } from "@pw/telemetry";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createServiceMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: "pw_" });
  // The business figures (outcomes, rewards, decision latency…) counted wherever they happen.
  for (const metric of businessMetrics()) registry.registerMetric(metric);
  return {
    registry,
    /** Events handled by this instance, by topic and the handler's result. */
    events: new Counter({
      name: "pw_events_handled_total",
      help: "Events handled by this instance, by topic and result (the handler's own word: emitted, queued, duplicate…)",
      labelNames: ["topic", "result"] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: "pw_events_dead_lettered_total",
      help: "Messages this instance parked in a DLQ, by topic and why (poison, non-retryable, validation, attempts-exhausted)",
      labelNames: ["topic", "reason"] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "pw_events_batch_size",
      help: "Events applied per handler call (batches share one transaction)",
      labelNames: ["topic"] as const,
      buckets: [1, 5, 10, 25, 50, 100, 200, 500],
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: "pw_outbox_published_total",
      help: "Outbox rows published to the broker by this instance's relay",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    outboxQuarantined: new Counter({
      name: "pw_outbox_quarantined_total",
      help: "Outbox rows the relay quarantined because the broker refuses them for good (too large, invalid)",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    /** Read at scrape time (and by the readiness check) from the outbox table. */
    outboxUnpublishedRows: new Gauge({
      name: "pw_outbox_unpublished_rows",
      help: "Outbox rows waiting for the relay (quarantined rows excluded)",
      labelNames: ["outbox"] as const,
      registers: [registry],
    }),
    outboxOldestAge: new Gauge({
      name: "pw_outbox_oldest_unpublished_age_seconds",
      help: "Age of the oldest outbox row waiting for the relay (0 when none)",
      labelNames: ["outbox"] as const,
      registers: [registry],
    }),
    outboxQuarantinedRows: new Gauge({
      name: "pw_outbox_quarantined_rows",
      help: "Quarantined outbox rows waiting for an operator",
      labelNames: ["outbox"] as const,
      registers: [registry],
    }),
    outboxPruned: new Counter({
      name: "pw_outbox_pruned_total",
      help: "Published outbox rows and old inbox rows deleted by housekeeping",
      labelNames: ["table"] as const,
      registers: [registry],
    }),
    /** A counter of the service's own, in its registry. */
    counter: (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers: [registry] }),
    /** Gauges a service registers for itself (read at scrape time). */
    gauge: (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers: [registry] }),
  };
}
export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;
