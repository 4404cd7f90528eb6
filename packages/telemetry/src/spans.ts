/**
 * Spans, metrics and errors for the services, each a no-op while Sentry is off (no DSN),
 * so the code that calls them needs no condition. Traces follow the W3C `traceparent`
 * every event carries (@pw/service trace.ts): a span continues the trace of the event it
 * handles, and the events it causes carry the span's own traceparent, so the next
 * service's span is its child — one trace per lead journey across the bus.
 */
import * as Sentry from "@sentry/node";
import { mirrorCount, mirrorDistribution } from "./business.ts";
import { HEAD_SAMPLED, telemetryEnabled, tracesSampleRate } from "./init.ts";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** `sentry-trace` (`<trace>-<span>-<sampled>`) for a W3C traceparent. */
export function toSentryTrace(traceparent: string | undefined): string | undefined {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return undefined;
  return `${m[1]}-${m[2]}-${(Number.parseInt(m[3]!, 16) & 1) === 1 ? "1" : "0"}`;
}

/** The W3C traceparent of a span: what the events it causes carry. */
export function traceparentOf(span: Sentry.Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags ?? 0) & 1 ? "01" : "00"}`;
}

/** The active span's traceparent (a request being handled, say), if telemetry is on. */
export function activeSpanTraceparent(): string | undefined {
  if (!telemetryEnabled()) return undefined;
  const span = Sentry.getActiveSpan();
  return span ? traceparentOf(span) : undefined;
}

export type Attributes = Record<string, string | number | boolean | undefined>;

const defined = (a: Attributes) =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Record<
    string,
    string | number | boolean
  >;

export type EventSpan = {
  /** The span's traceparent (undefined while telemetry is off). */
  traceparent: string | undefined;
  /** Adds what the handler learnt (segment, variant, score…). */
  set(attributes: Attributes): void;
  end(error?: unknown): void;
};

const NOOP: EventSpan = { traceparent: undefined, set() {}, end() {} };

const hex8 = () => ((Math.random() * 0x1_0000_0000) >>> 0).toString(16).padStart(8, "0");

/**
 * A journey dropped where it started (flag 00): nothing of it will be sent, so no span is
 * made — only the next hop's traceparent, still unsampled, so every later service drops it
 * too without asking the SDK (99% of events at the default rate; ADR 0018's costs).
 */
function unsampled(traceId: string): EventSpan {
  return { traceparent: `00-${traceId}-${hex8()}${hex8()}-00`, set() {}, end() {} };
}

/**
 * A span for handling one event, continuing the trace its `traceparent` names (a new
 * trace without one). Not made active: a batch holds one per event at once.
 */
export function startEventSpan(spec: {
  name: string;
  op: string;
  traceparent: string | undefined;
  /** Computed only when telemetry is on (a handler's hot path pays nothing otherwise). */
  attributes: Attributes | (() => Attributes);
  /** Another trace this work belongs to as well (an outcome's own webhook trace). */
  link?: string | undefined;
}): EventSpan {
  if (!telemetryEnabled()) return NOOP;
  const parent = spec.traceparent ? TRACEPARENT.exec(spec.traceparent) : null;
  if (parent && (Number.parseInt(parent[3]!, 16) & 1) === 0) return unsampled(parent[1]!);
  // A new journey: the head-sampling draw the SDK would make, made here so that a dropped
  // one costs nothing more (the SDK's own span, even unrecorded, cost ~10% of throughput).
  if (!parent && Math.random() >= tracesSampleRate())
    return unsampled(`${hex8()}${hex8()}${hex8()}${hex8()}`);
  const attributes = typeof spec.attributes === "function" ? spec.attributes() : spec.attributes;
  const sentryTrace = toSentryTrace(spec.traceparent);
  const link = spec.link ? TRACEPARENT.exec(spec.link) : null;
  const span = Sentry.continueTrace({ sentryTrace, baggage: undefined }, () =>
    Sentry.startInactiveSpan({
      name: spec.name,
      op: spec.op,
      attributes: parent ? defined(attributes) : { ...defined(attributes), [HEAD_SAMPLED]: true },
      forceTransaction: true,
      ...(link
        ? {
            links: [
              {
                context: {
                  traceId: link[1]!,
                  spanId: link[2]!,
                  traceFlags: Number.parseInt(link[3]!, 16) & 1,
                },
                attributes: { "sentry.link.type": "caused_by" },
              },
            ],
          }
        : {}),
    }),
  );
  return {
    traceparent: traceparentOf(span),
    set: (attributes) => span.setAttributes(defined(attributes)),
    end(error) {
      if (error) span.setStatus({ code: 2, message: "internal_error" });
      span.end();
    },
  };
}

/**
 * Counts add up here and leave every `COUNT_FLUSH_MS` as one Sentry count per name and
 * attribute set (`trace_metric` items are not aggregated by the SDK: one per call, on a
 * hot path, cost a quarter of scoring's throughput — ADR 0018).
 */
const COUNT_FLUSH_MS = 10_000;
const counts = new Map<string, { name: string; value: number; attributes: Attributes }>();
let flushing = false;

function flushCounts(): void {
  for (const c of counts.values())
    Sentry.metrics.count(c.name, c.value, { attributes: defined(c.attributes) });
  counts.clear();
}

/** A counter, in Sentry (`trace_metric`) when it is on, and in Prometheus when listed (business.ts). */
export function countMetric(name: string, value: number, attributes: Attributes): void {
  mirrorCount(name, value, attributes);
  if (!telemetryEnabled()) return;
  const key = `${name}\u0000${JSON.stringify(Object.entries(defined(attributes)).sort())}`;
  const c = counts.get(key);
  if (c) c.value += value;
  else counts.set(key, { name, value, attributes });
  if (!flushing) {
    setInterval(flushCounts, COUNT_FLUSH_MS).unref();
    flushing = true;
  }
}

/**
 * A distribution (a latency, a score): every value in Prometheus, a sample of them in
 * Sentry — at the traces' rate, so its percentiles stay unbiased while a hot path (a
 * score per lead) does not send an item per call (ADR 0018's costs).
 */
export function distributionMetric(
  name: string,
  value: number,
  attributes: Attributes,
  unit?: string,
): void {
  mirrorDistribution(name, value, attributes);
  if (telemetryEnabled() && Math.random() < tracesSampleRate())
    Sentry.metrics.distribution(name, value, {
      attributes: defined(attributes),
      ...(unit ? { unit } : {}),
    });
}

/**
 * An error grouped by its cause, not its text: `fingerprint` names the cause (e.g.
 * `["vendor", "stackai", "http_500"]`); tags carry the lead and event ids.
 */
export function captureError(
  error: unknown,
  o: { fingerprint: string[]; tags: Attributes; level?: "error" | "warning" },
): void {
  if (!telemetryEnabled()) return;
  Sentry.captureException(error, {
    fingerprint: o.fingerprint,
    tags: defined(o.tags),
    level: o.level ?? "error",
  });
}

/** Sends what is buffered (before a process exits). */
export async function flushTelemetry(timeoutMs = 2_000): Promise<void> {
  if (!telemetryEnabled()) return;
  flushCounts();
  await Sentry.flush(timeoutMs);
}

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/**
 * A pino destination forwarding each line to Sentry's logs (`log` items; the scrubber
 * runs on them like on everything else), or undefined while telemetry is off. The
 * message, level and the line's own fields (event, lead and trace ids…) become the log's
 * attributes; pino's timestamp and bindings that Sentry sets itself are left out.
 */
export function sentryLogStream(): { write(line: string): void } | undefined {
  if (!telemetryEnabled()) return undefined;
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = record;
      const name = LOG_LEVELS.includes(level as (typeof LOG_LEVELS)[number])
        ? (level as (typeof LOG_LEVELS)[number])
        : "info";
      const attributes: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(rest))
        attributes[k] =
          typeof v === "string" || typeof v === "number" || typeof v === "boolean"
            ? v
            : JSON.stringify(v);
      Sentry.logger[name](typeof msg === "string" ? msg : "", attributes);
    },
  };
}
