/**
 * The readiness checks the kit adds by itself once a service has consumers or an outbox:
 * `consumers` (down while any subscription says it is stalled, with its reason) and
 * `outbox` (down while the oldest unpublished row is older than OUTBOX_MAX_LAG_MS; it also
 * refreshes the outbox gauges, which a scrape reads the same way).
 */
import type { Subscription } from "@pw/bus";
import { type Db, type OutboxTable, outboxStats } from "@pw/db";
import type { ServiceMetrics } from "./metrics.ts";
import type { Check, CheckResult } from "./ops.ts";

/** What `Subscription.health()` reports (@pw/bus); an adapter without it is never stalled. */
type SubscriptionHealth = { status: "ok" | "stalled"; reason?: string; since?: number };

export function consumersCheck(subscriptions: { name: string; sub: Subscription }[]): Check {
  return {
    name: "consumers",
    required: true,
    run: async () => {
      const stalled = subscriptions.flatMap(({ name: topic, sub }) => {
        const health = (sub as { health?: () => SubscriptionHealth }).health;
        if (typeof health !== "function") return [];
        const h = health.call(sub);
        if (h.status !== "stalled") return [];
        const since = h.since ? ` (since ${new Date(h.since).toISOString()})` : "";
        return [`${topic}: ${h.reason ?? "stalled"}${since}`];
      });
      return stalled.length > 0 ? { status: "down", reason: stalled.join("; ") } : { status: "ok" };
    },
  };
}

/** The outboxes of a service summed up, as its heartbeat reports them. */
export type OutboxSummary = { pending: number; oldestPendingAgeMs: number; quarantined: number };

export function outboxLag(deps: {
  db: Db;
  outboxes: { name: string; table: OutboxTable }[];
  metrics: ServiceMetrics;
  maxLagMs: number;
}): (() => Promise<CheckResult>) & {
  /** What the last run read (undefined before the first, or without an outbox). */
  latest(): OutboxSummary | undefined;
} {
  const { metrics, maxLagMs } = deps;
  let latest: OutboxSummary | undefined;
  const run = async (): Promise<CheckResult> => {
    const down: string[] = [];
    let quarantined = 0;
    const summary: OutboxSummary = { pending: 0, oldestPendingAgeMs: 0, quarantined: 0 };
    for (const o of deps.outboxes) {
      const s = await outboxStats(deps.db, o.table);
      summary.pending += s.unpublished;
      summary.oldestPendingAgeMs = Math.max(summary.oldestPendingAgeMs, s.oldestAgeMs);
      summary.quarantined += s.quarantined;
      metrics.outboxUnpublishedRows.set({ outbox: o.name }, s.unpublished);
      metrics.outboxOldestAge.set({ outbox: o.name }, s.oldestAgeMs / 1000);
      metrics.outboxQuarantinedRows.set({ outbox: o.name }, s.quarantined);
      quarantined += s.quarantined;
      if (s.oldestAgeMs > maxLagMs)
        down.push(
          `${o.name}: oldest unpublished row is ${s.oldestAgeMs} ms old (limit ${maxLagMs} ms); ${s.unpublished} unpublished`,
        );
    }
    if (deps.outboxes.length > 0) latest = summary;
    if (down.length > 0) return { status: "down", reason: down.join("; ") };
    if (quarantined > 0)
      return { status: "ok", reason: `${quarantined} quarantined row(s) wait for an operator` };
    return { status: "ok" };
  };
  return Object.assign(run, { latest: () => latest });
}
