/**
 * The engine's own gauges, read from the database at scrape time so every instance
 * reports the same truth: queue by status, today's capacity, decisions, arm posteriors.
 * (Events handled per topic and result are the kit's shared counter.)
 */
import { DEFAULT_POLICY, posterior } from "@pw/bandit";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/experiments";
import type { ServiceMetrics } from "@pw/service";
import { sql } from "drizzle-orm";

export function engineGauges(metrics: ServiceMetrics, db: Db, perDay: number, now: () => Date) {
  const queue = metrics.gauge("pw_experiments_queue_leads", "Leads in the queue by status", [
    "status",
  ]);
  const capacityUsed = metrics.gauge(
    "pw_experiments_capacity_used",
    "First-touch sends spent today (UTC)",
  );
  const capacityPerDay = metrics.gauge(
    "pw_experiments_capacity_per_day",
    "First-touch sends allowed per day",
  );
  const decisions = metrics.gauge("pw_experiments_decisions", "Decisions by state", ["state"]);
  const armMean = metrics.gauge(
    "pw_experiments_arm_posterior_mean",
    "Posterior mean reward rate (the policy's base prior, without pooling)",
    ["segment", "variant", "status"],
  );
  const armExposures = metrics.gauge("pw_experiments_arm_exposures", "Sends per arm", [
    "segment",
    "variant",
  ]);

  return async function refresh() {
    const byStatus = await db
      .select({ status: schema.queue.status, n: sql<number>`count(*)::int` })
      .from(schema.queue)
      .groupBy(schema.queue.status);
    queue.reset();
    for (const q of byStatus) queue.set({ status: q.status }, q.n);
    const [used] = await db
      .select({ used: schema.sendCapacity.used })
      .from(schema.sendCapacity)
      .where(sql`${schema.sendCapacity.day} = ${now().toISOString().slice(0, 10)}`);
    capacityUsed.set(used?.used ?? 0);
    capacityPerDay.set(perDay);
    const byState = await db
      .select({ state: schema.decisions.state, n: sql<number>`count(*)::int` })
      .from(schema.decisions)
      .groupBy(schema.decisions.state);
    decisions.reset();
    for (const d of byState) decisions.set({ state: d.state }, d.n);
    armMean.reset();
    armExposures.reset();
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
      armMean.set(
        { segment: a.segment, variant: a.variantId, status: a.status },
        alpha / (alpha + beta),
      );
      armExposures.set({ segment: a.segment, variant: a.variantId }, a.exposures);
    }
  };
}
