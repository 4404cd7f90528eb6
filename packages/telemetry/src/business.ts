/**
 * The business figures in Prometheus too, so nothing depends on Sentry: every
 * `countMetric` / `distributionMetric` whose name is listed here also moves a Prometheus
 * counter or histogram, whether Sentry is on or not. The kit registers these in each
 * service's registry (@pw/service metrics.ts), so every `/metrics` shows them. Figures a
 * service already counts in Prometheus under its own name (`pw.scores`, `pw.sends`,
 * `pw.decisions`) are not mirrored twice (docs/observability.md lists the pairs).
 */
import { Counter, Histogram, type Metric } from "prom-client";
import type { Attributes } from "./spans.ts";

type Spec = { prometheus: string; help: string; labels: readonly string[] };

const COUNTS: Record<string, Spec> = {
  "pw.outcomes": {
    prometheus: "pw_outcomes_total",
    help: "Outcomes of the engine's sends, by outcome, reply intent, segment and variant",
    labels: ["outcome", "intent", "segment", "variant"],
  },
  "pw.rewards": {
    prometheus: "pw_rewards_total",
    help: "Sends credited with the campaign's reward (meeting, conversion…), by segment and variant",
    labels: ["reward", "segment", "variant"],
  },
  "pw.variant_status": {
    prometheus: "pw_variant_status_changes_total",
    help: "Variant status changes (suppressed, paused by a guardrail, re-tested, resumed), by who and to what",
    labels: ["segment", "variant", "to", "by"],
  },
  "pw.vendor_fallbacks": {
    prometheus: "pw_vendor_fallbacks_total",
    help: "Vendor calls that failed after retries and fell back to the local implementation",
    labels: ["vendor", "reason"],
  },
};

const DISTRIBUTIONS: Record<string, Spec & { buckets: number[]; scale: number }> = {
  "pw.decision.latency": {
    prometheus: "pw_decision_latency_seconds",
    help: "Score to decision: how long a scored lead waited for its variant (queue and capacity)",
    labels: ["segment"],
    // Sentry gets milliseconds; Prometheus seconds.
    scale: 1 / 1000,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600, 86_400],
  },
  "pw.score": {
    prometheus: "pw_score_percent",
    help: "Scores given (a lead's calibrated chance to convert, in percent), by scorer and tier",
    labels: ["scorer", "tier"],
    scale: 1,
    buckets: [1, 2, 5, 10, 20, 30, 50, 70, 90],
  },
};

const counters = new Map<string, Counter<string>>();
const histograms = new Map<
  string,
  { h: Histogram<string>; scale: number; labels: readonly string[] }
>();
for (const [name, s] of Object.entries(COUNTS))
  counters.set(
    name,
    new Counter({ name: s.prometheus, help: s.help, labelNames: s.labels, registers: [] }),
  );
for (const [name, s] of Object.entries(DISTRIBUTIONS))
  histograms.set(name, {
    h: new Histogram({
      name: s.prometheus,
      help: s.help,
      labelNames: s.labels,
      buckets: s.buckets,
      registers: [],
    }),
    scale: s.scale,
    labels: s.labels,
  });

/** The mirrored metrics, for a service's registry to include. */
export const businessMetrics = (): Metric[] => [
  ...counters.values(),
  ...[...histograms.values()].map((x) => x.h),
];

const labelsOf = (keys: readonly string[], a: Attributes) =>
  Object.fromEntries(keys.map((k) => [k, a[k] === undefined ? "" : String(a[k])]));

export function mirrorCount(name: string, value: number, attributes: Attributes): void {
  const c = counters.get(name);
  if (c) c.inc(labelsOf(COUNTS[name]!.labels, attributes), value);
}

export function mirrorDistribution(name: string, value: number, attributes: Attributes): void {
  const d = histograms.get(name);
  if (d) d.h.observe(labelsOf(d.labels, attributes), value * d.scale);
}
