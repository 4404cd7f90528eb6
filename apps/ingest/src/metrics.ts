/** Ingest's own Prometheus metrics, in the service's registry (the kit's `ServiceMetrics`). */
import type { ServiceMetrics } from "@pw/service";
import { Counter, Histogram } from "prom-client";

export function createMetrics({ registry }: Pick<ServiceMetrics, "registry">) {
  return {
    requests: new Counter({
      name: "pw_ingest_requests_total",
      help: "Webhook requests by route and status",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    }),
    publishLatency: new Histogram({
      name: "pw_ingest_publish_seconds",
      help: "Time from a valid request to the broker's acknowledgement",
      labelNames: ["topic"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    dedupeHits: new Counter({
      name: "pw_ingest_dedupe_hits_total",
      help: "Deliveries answered as duplicates of an accepted webhook-id",
      labelNames: ["route"] as const,
      registers: [registry],
    }),
    unavailable: new Counter({
      name: "pw_ingest_unavailable_total",
      help: "Requests answered 503 because the broker or the database could not take them",
      labelNames: ["dependency"] as const,
      registers: [registry],
    }),
    unsubscribes: new Counter({
      name: "pw_ingest_unsubscribes_total",
      help: "One-click unsubscribe POSTs by result: unsubscribed, duplicate, invalid_token, unavailable, not_configured",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
