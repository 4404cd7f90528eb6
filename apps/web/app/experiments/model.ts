/**
 * The experiments page's data (the gateway's `/api/experiments` and
 * `/api/experiments/:segment/history`) and the small pure arithmetic it shows: a shared
 * axis for the credible intervals, traffic share per window of sends (the picture of
 * the engine shifting traffic), and the share of the most recent sends.
 */

export type VariantStatus = "active" | "suppressed" | "paused" | "retired";

/** One row of `gateway.arms` plus its share of the segment's sends. */
export type Arm = {
  segment: string;
  variantId: string;
  /** Posterior mean of the reward rate; null until a snapshot has named the arm. */
  mean: number | null;
  /** 95% credible interval. */
  low: number | null;
  high: number | null;
  pBest: number | null;
  exposures: number;
  successes: number;
  status: VariantStatus | string;
  statusReason: string | null;
  updatedAt: string;
  /** exposures / the segment's exposures (all time). */
  share: number;
};

export type SegmentStandings = { segment: string; exposures: number; arms: Arm[] };
export type ExperimentsResponse = { segments: SegmentStandings[] };

export type Snapshot = {
  seq: number;
  at: string;
  /** What counts as a success: reply, positive_reply, meeting_booked, converted. */
  reward?: string;
  total: number;
  exposures: Record<string, number>;
  share: Record<string, number>;
  pBest: Record<string, number>;
  status: Record<string, string>;
};
export type HistoryResponse = { segment: string; snapshots: Snapshot[] };

/** The reward in words, plural, for column heads and bases ("34 replies"). */
export function rewardLabel(reward: string | undefined): { plural: string; singular: string } {
  switch (reward) {
    case "reply":
      return { plural: "replies", singular: "reply" };
    case "positive_reply":
      return { plural: "positive replies", singular: "positive reply" };
    case "meeting_booked":
      return { plural: "meetings booked", singular: "meeting booked" };
    case "converted":
      return { plural: "conversions", singular: "conversion" };
    default:
      return { plural: "successes", singular: "success" };
  }
}

const STATUS_ORDER: Record<string, number> = { active: 0, paused: 1, suppressed: 2, retired: 3 };

/** Active variants first (most likely best on top), then paused, suppressed, retired. */
export function orderArms(arms: readonly Arm[]): Arm[] {
  return [...arms].sort(
    (a, b) =>
      (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) ||
      (b.pBest ?? -1) - (a.pBest ?? -1) ||
      a.variantId.localeCompare(b.variantId),
  );
}

/** The active variant with the highest P(best), if any has one. */
export function leaderOf(arms: readonly Arm[]): string | undefined {
  let best: Arm | undefined;
  for (const a of arms)
    if (a.status === "active" && a.pBest !== null && (!best || a.pBest > (best.pBest ?? -1)))
      best = a;
  return best?.variantId;
}

const NICE = [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1];

/** The top of a rate axis every interval of the segment fits on (a round number ≤ 1). */
export function axisMax(arms: readonly Arm[]): number {
  const top = Math.max(0, ...arms.map((a) => a.high ?? a.mean ?? 0));
  return NICE.find((n) => n >= top * 1.05) ?? 1;
}

const STEPS = [0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25];

/** Round ticks from 0 to `max` (at most six), e.g. 0, 5%, 10%, 15%. */
export function axisTicks(max: number): number[] {
  const step =
    STEPS.find((s) => {
      const n = max / s;
      return n <= 5 && Math.abs(n - Math.round(n)) < 1e-9;
    }) ?? max / 4;
  const n = Math.round(max / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.round(i * step * 1e6) / 1e6);
}

/** Digits a tick label needs to show its step (0.25% needs two). */
export function tickDigits(ticks: readonly number[]): number {
  const step = ticks[1] ?? 1;
  const pctStep = step * 100;
  if (Math.abs(pctStep - Math.round(pctStep)) < 1e-9) return 0;
  if (Math.abs(pctStep * 10 - Math.round(pctStep * 10)) < 1e-9) return 1;
  return 2;
}

/** Traffic in one window of sends between snapshots. */
export type ShareWindow = {
  /** When the window ended (the last snapshot in it). */
  at: string;
  sends: number;
  /** Sends per variant in the window. */
  counts: Record<string, number>;
  /** counts / sends. */
  share: Record<string, number>;
};

type Step = { at: string; sends: number; counts: Record<string, number> };

/**
 * Each variant's new sends from one snapshot to the next. A variant missing from a
 * snapshot keeps its last count; a count that went down (a restart) adds nothing.
 */
function steps(snapshots: readonly Snapshot[]): Step[] {
  const first = snapshots[0];
  if (!first) return [];
  const lastSeen = new Map<string, number>(Object.entries(first.exposures));
  return snapshots.slice(1).map((s) => {
    const counts: Record<string, number> = {};
    let sends = 0;
    for (const [v, n] of Object.entries(s.exposures)) {
      const delta = Math.max(0, n - (lastSeen.get(v) ?? 0));
      lastSeen.set(v, n);
      if (delta === 0) continue;
      counts[v] = delta;
      sends += delta;
    }
    return { at: s.at, sends, counts };
  });
}

function toWindow(at: string, parts: readonly Step[]): ShareWindow {
  const counts: Record<string, number> = {};
  let sends = 0;
  for (const p of parts) {
    sends += p.sends;
    for (const [v, n] of Object.entries(p.counts)) counts[v] = (counts[v] ?? 0) + n;
  }
  const share: Record<string, number> = {};
  for (const [v, n] of Object.entries(counts)) share[v] = sends > 0 ? n / sends : 0;
  return { at, sends, counts, share };
}

/**
 * Per-window traffic share from cumulative snapshots: new sends gathered until a window
 * holds at least `minSends` (the last window may hold fewer: it is what happened most
 * recently).
 */
export function shareWindows(snapshots: readonly Snapshot[], minSends: number): ShareWindow[] {
  const out: ShareWindow[] = [];
  let parts: Step[] = [];
  let sends = 0;
  for (const step of steps(snapshots)) {
    parts.push(step);
    sends += step.sends;
    if (sends >= minSends && sends > 0) {
      out.push(toWindow(step.at, parts));
      parts = [];
      sends = 0;
    }
  }
  const tail = parts.at(-1);
  if (tail && sends > 0) out.push(toWindow(tail.at, parts));
  return out;
}

/** New sends across the whole history. */
export function sendsInHistory(snapshots: readonly Snapshot[]): number {
  return steps(snapshots).reduce((n, s) => n + s.sends, 0);
}

/**
 * The share of the most recent sends: from the last snapshot back until at least
 * `minSends` new sends are covered. Undefined when the history holds fewer.
 */
export function recentShare(
  snapshots: readonly Snapshot[],
  minSends: number,
): (ShareWindow & { since: string }) | undefined {
  const all = steps(snapshots);
  let sends = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    sends += all[i]!.sends;
    if (sends >= minSends && sends > 0)
      return { ...toWindow(all.at(-1)!.at, all.slice(i)), since: snapshots[i]!.at };
  }
  return undefined;
}
