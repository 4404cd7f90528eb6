/**
 * The what-if answer in one plain sentence: what the candidate would have earned, against
 * the policy that ran, and how sure that is — from the interval, the baseline and how many
 * logged decisions the estimate is really worth (effective sample size).
 */
export type Interval = [number, number];

const pct = (x: number) => {
  const v = x * 100;
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
};

/** Fewer logged decisions than this and there is no estimate worth giving. */
export const MIN_DECISIONS = 30;
/** An effective sample under this is a rough guess whatever the interval says. */
export const LOW_ESS = 30;

export function tooFewSentence(o: {
  segment: string;
  n: number;
  windowDays: number;
  open: number;
  retentionHours: number;
}): string {
  const open =
    o.open > 0 ? ` (${o.open} more are still inside their ${days(o.windowDays)} window)` : "";
  const retention =
    o.windowDays * 24 > o.retentionHours
      ? ` The gateway keeps ${o.retentionHours} h of events, less than the window: ask with windowDays ≤ ${Math.floor((o.retentionHours / 24) * 10) / 10}, or keep events longer (GATEWAY_STREAM_RETENTION_HOURS).`
      : "";
  return `Not enough to say: only ${o.n} decision${o.n === 1 ? "" : "s"} for ${o.segment} can be scored${open}, and at least ${MIN_DECISIONS} are needed.${retention}`;
}

export function estimateSentence(o: {
  segment: string;
  candidate: string;
  n: number;
  estimate: number | null;
  interval: Interval | null;
  ess: number;
  baseline: number;
  rewardLabel: string;
}): string {
  if (o.estimate === null || o.interval === null)
    return `No estimate: ${o.candidate} would never have made any of the ${o.n} choices the engine made for ${o.segment}, so the log says nothing about it.`;
  const [lo, hi] = o.interval;
  const head = `On ${o.n} decisions for ${o.segment}, ${o.candidate} would have reached a ${o.rewardLabel} rate of about ${pct(o.estimate)} (95% interval ${pct(lo)}–${pct(hi)}), against ${pct(o.baseline)} for the policy that ran.`;
  if (o.ess < LOW_ESS)
    return `${head} Few logged decisions look like its choices (worth about ${Math.round(o.ess)} of ${o.n}), so this is a rough guess.`;
  if (lo > o.baseline)
    return `${head} The whole interval is above the logged rate: it would likely have done better.`;
  if (hi < o.baseline)
    return `${head} The whole interval is below the logged rate: it would likely have done worse.`;
  return `${head} The interval includes the logged rate: no evidence it is better or worse.`;
}

function days(d: number): string {
  return `${d}-day`;
}
