/**
 * The engine's HTTP surface: health, readiness and Prometheus metrics. Counters are
 * this instance's; the gauges are read from the database at scrape time, so every
 * instance reports the same truth (queue depth, today's capacity, arm posteriors).
 */
import { DEFAULT_POLICY, posterior } from "@pw/bandit";
import { type Db, schema } from "@pw/db";
import { sql } from "drizzle-orm";
import Fastify from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

export function createExperimentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "pw_experiments_" });
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    events: new Counter({
      name: "pw_experiments_events_total",
      help: "Events handled by this instance, by topic and result (queued, rewarded, guardrail, duplicate…)",
      labelNames: ["topic", "result"] as const,
      registers: [registry],
    }),
    queue: gauge("pw_experiments_queue_leads", "Leads in the queue by status", ["status"]),
    capacityUsed: gauge("pw_experiments_capacity_used", "First-touch sends spent today (UTC)"),
    capacityPerDay: gauge("pw_experiments_capacity_per_day", "First-touch sends allowed per day"),
    decisions: gauge("pw_experiments_decisions", "Decisions by state", ["state"]),
    armMean: gauge(
      "pw_experiments_arm_posterior_mean",
      "Posterior mean reward rate (the policy's base prior, without pooling)",
      ["segment", "variant", "status"],
    ),
    armExposures: gauge("pw_experiments_arm_exposures", "Sends per arm", ["segment", "variant"]),
  };
}
export type ExperimentMetrics = ReturnType<typeof createExperimentMetrics>;

async function refresh(m: ExperimentMetrics, db: Db, perDay: number, now: Date) {
  const queue = await db
    .select({ status: schema.queue.status, n: sql<number>`count(*)::int` })
    .from(schema.queue)
    .groupBy(schema.queue.status);
  m.queue.reset();
  for (const q of queue) m.queue.set({ status: q.status }, q.n);
  const [used] = await db
    .select({ used: schema.sendCapacity.used })
    .from(schema.sendCapacity)
    .where(sql`${schema.sendCapacity.day} = ${now.toISOString().slice(0, 10)}`);
  m.capacityUsed.set(used?.used ?? 0);
  m.capacityPerDay.set(perDay);
  const decisions = await db
    .select({ state: schema.decisions.state, n: sql<number>`count(*)::int` })
    .from(schema.decisions)
    .groupBy(schema.decisions.state);
  m.decisions.reset();
  for (const d of decisions) m.decisions.set({ state: d.state }, d.n);
  m.armMean.reset();
  m.armExposures.reset();
  for (const a of await db.select().from(schema.arms)) {
    const { alpha, beta } = posterior(
      {
        id: a.variantId,
        successes: a.successes,
        failures: a.failures,
        exposures: a.exposures,
        status: "active",
      },
      DEFAULT_POLICY,
    );
    const mean = alpha / (alpha + beta);
    m.armMean.set({ segment: a.segment, variant: a.variantId, status: a.status }, mean);
    m.armExposures.set({ segment: a.segment, variant: a.variantId }, a.exposures);
  }
}

export function buildHttp(deps: {
  db: Db;
  metrics: ExperimentMetrics;
  capacityPerDay: number;
  ready: () => Promise<{ broker: boolean; database: boolean } & Record<string, unknown>>;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const app = Fastify();
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const r = await deps.ready();
    return reply.code(r.broker && r.database ? 200 : 503).send(r);
  });
  app.get("/metrics", async (_req, reply) => {
    await refresh(deps.metrics, deps.db, deps.capacityPerDay, now());
    reply.header("content-type", deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  return app;
}
