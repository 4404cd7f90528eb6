/** Scoring's HTTP surface: health, readiness and Prometheus metrics (the work itself is a consumer). */
import Fastify from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createScoringMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "pw_scoring_" });
  return {
    registry,
    events: new Counter({
      name: "pw_scoring_events_total",
      help: "Events handled, by topic and outcome (emitted, unchanged, duplicate, ignored)",
      labelNames: ["topic", "outcome"] as const,
      registers: [registry],
    }),
    scorer: new Counter({
      name: "pw_scoring_scores_total",
      help: "Scores computed, by scorer and whether it was a fallback",
      labelNames: ["scorer", "fallback"] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "pw_scoring_batch_size",
      help: "Events applied per transaction",
      buckets: [1, 5, 10, 25, 50, 100, 200],
      registers: [registry],
    }),
    breakerOpen: new Gauge({
      name: "pw_scoring_stackai_breaker_open",
      help: "1 while the stackAI circuit breaker is open",
      registers: [registry],
    }),
  };
}
export type ScoringMetrics = ReturnType<typeof createScoringMetrics>;

export function buildHttp(deps: {
  metrics: ScoringMetrics;
  ready: () => Promise<{ broker: boolean; database: boolean; stackai: string }>;
}) {
  const app = Fastify();
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const r = await deps.ready();
    deps.metrics.breakerOpen.set(r.stackai === "open" ? 1 : 0);
    return reply.code(r.broker && r.database ? 200 : 503).send(r);
  });
  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}
