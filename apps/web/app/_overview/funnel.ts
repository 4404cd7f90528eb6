/**
 * The funnel as `/api/funnel` answers it, the five stages the overview shows, and the
 * small pure sums the counters and the chart are drawn from.
 */
export type Bucket = "minute" | "hour" | "day";

export type FunnelPoint = {
  start: string;
  received: number;
  scored: number;
  requested: number;
  sent: number;
  converted: number;
};
export type Funnel = { bucket: Bucket; since: string; series: FunnelPoint[] };

export type StageKey = "received" | "scored" | "requested" | "sent" | "converted";

export type Stage = {
  key: StageKey;
  label: string;
  /** What one unit of this stage is, for "12 leads" and "3.1 sends/min". */
  unit: string;
  /** What was counted, in words (the tooltip and the screen-reader text). */
  means: string;
  color: string;
  dash?: string;
};

export const STAGES: Stage[] = [
  {
    key: "received",
    label: "Received",
    unit: "events",
    means: "CRM events and intent signals ingested",
    color: "#7cc4ff",
  },
  {
    key: "scored",
    label: "Scored",
    unit: "scores",
    means: "leads scored (new leads and material changes)",
    color: "#c9b3ff",
    dash: "6 3",
  },
  {
    key: "requested",
    label: "Decided",
    unit: "decisions",
    means: "messages chosen by the experiment engine",
    color: "#ffd166",
    dash: "2 3",
  },
  {
    key: "sent",
    label: "Sent",
    unit: "sends",
    means: "messages dispatched with status sent",
    color: "#6fdc8c",
    dash: "9 3 2 3",
  },
  {
    key: "converted",
    label: "Converted",
    unit: "conversions",
    means: "conversion outcomes reported",
    color: "#ff9e80",
  },
];

export const BUCKET_MS: Record<Bucket, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** The API's default span per bucket (routes.ts DEFAULT_SPAN), in words. */
export const BUCKET_SPAN: Record<Bucket, string> = {
  minute: "last 60 min",
  hour: "last 48 h",
  day: "last 30 days",
};

export type Totals = Record<StageKey, number>;

export function zero(): Totals {
  return { received: 0, scored: 0, requested: 0, sent: 0, converted: 0 };
}

export function totals(points: readonly FunnelPoint[]): Totals {
  const t = zero();
  for (const p of points) for (const s of STAGES) t[s.key] += p[s.key] ?? 0;
  return t;
}

/** The start of the minute bucket `minutes - 1` before the current one. */
function windowStart(minutes: number, now: number): number {
  return Math.floor(now / 60_000) * 60_000 - (minutes - 1) * 60_000;
}

/**
 * Points of the last `minutes` minute buckets, the current (partial) one included; the
 * demo clock may put some ahead of now, and they count as recent too.
 */
export function recent(
  points: readonly FunnelPoint[],
  minutes: number,
  now: number,
): FunnelPoint[] {
  const start = windowStart(minutes, now);
  return points.filter((p) => Date.parse(p.start) >= start);
}

/** Per minute over the last `minutes` buckets, divided by the time they really cover. */
export function perMinute(points: readonly FunnelPoint[], minutes: number, now: number): Totals {
  const t = totals(recent(points, minutes, now));
  const elapsed = Math.max(1, (now - windowStart(minutes, now)) / 60_000);
  const out = zero();
  for (const s of STAGES) out[s.key] = t[s.key] / elapsed;
  return out;
}

/** The window stalls are judged on, and how much the stage before must have grown. */
export const STALL_WINDOW_MIN = 10;
const STALL_MIN_BEFORE: Record<StageKey, number> = {
  received: Number.POSITIVE_INFINITY,
  scored: 5,
  requested: 5,
  sent: 5,
  // Conversions are rare and late: only silence after many sends is suspicious.
  converted: 100,
};

/**
 * A stage stalls when nothing reached it in the window while the stage before it grew
 * by at least its threshold: something between the two may be stuck.
 */
export function stalled(windowTotals: Totals, index: number): boolean {
  const stage = STAGES[index];
  const before = STAGES[index - 1];
  if (!stage || !before) return false;
  return windowTotals[stage.key] === 0 && windowTotals[before.key] >= STALL_MIN_BEFORE[stage.key];
}

export function tickLabel(iso: string, bucket: Bucket): string {
  const d = new Date(iso);
  if (bucket === "minute")
    return d.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  if (bucket === "hour")
    return d.toLocaleString("en-GB", { day: "2-digit", hour: "2-digit", minute: "2-digit" });
  return d.toLocaleDateString("en-GB", { day: "2-digit", month: "short" });
}

/** "3.4/min", "0.2/min", "0/min" */
export function rateText(n: number): string {
  if (n === 0) return "0/min";
  if (n < 10) return `${n.toFixed(1)}/min`;
  return `${Math.round(n)}/min`;
}
