/**
 * Change detection on a segment's arms, so one policy serves a steady campaign and
 * one whose best message changes (seasonality, fatigue, a competitor's launch):
 * evidence is kept for good while nothing changes, and when an arm's recent rate
 * departs from its long-run rate the segment starts over from recent evidence, its
 * suppressed arms re-tested. Pure: the caller owns the state.
 *
 * Each arm carries, beside its long-run counts, a recent window: counts that every
 * one of its own outcomes multiplies by `1 - 1 / window` first (an exponential window
 * of about `window` sends). The test compares the two rates in standard errors of the
 * recent one; an arm needs `minRecent` recent sends before it is tested, so in practice
 * the arms that carry the traffic (the incumbent) are watched, where a change costs.
 * Both sides count a send once its attribution window has closed (`ArmState.closed`):
 * a reward arrives early and a failure only at the close, so counts taken as outcomes
 * arrive swing with the traffic of the last weeks, and a test on them would see a
 * change at every ramp-up.
 */
import type { ArmState } from "./thompson.ts";

export type ChangeOptions = {
  /** Sends (of the arm) the recent window spans; its counts decay by 1 - 1/window per send. */
  window: number;
  /** Standard errors between the recent and the long-run rate that signal a change. */
  threshold: number;
  /** Recent (weighted) sends an arm needs before it is tested. */
  minRecent: number;
  /** After a change, each arm keeps at most this many pseudo-observations of evidence. */
  keep: number;
};

/** Recent-window counts (fractional: weighted). */
export type RecentCounts = { successes: number; failures: number };

/**
 * Chosen by the sweep (`node packages/simulator/scripts/sweep.ts`, figures in
 * docs/adr/0015-one-policy-for-steady-and-drifting-worlds.md): a window of 1,500 sends
 * (1,000 or 700 missed the change in some seeds: a shorter window is noisier), a change
 * at 3.5 standard errors once 400 recent sends are in (4.5 missed most changes; no false
 * alarm at 3 or 3.5 in 230 stationary runs of 50k leads), and 15 pseudo-observations
 * kept per arm (60 left the revived future best too little traffic to show itself).
 */
export const DEFAULT_CHANGE: ChangeOptions = {
  window: 1_500,
  threshold: 3.5,
  minRecent: 400,
  keep: 15,
};

/** The per-send decay of the recent window. */
export const recentDecay = (o: Pick<ChangeOptions, "window">) => 1 - 1 / o.window;

/**
 * `n` more outcomes of an arm: the factor its recent counts keep, and the weight each of
 * the `n` adds. Each outcome weighs 1 when it arrives and decays with the ones after it;
 * the batch's own weights sum to (1 - g^n) / (1 - g), shared evenly (order unknown).
 * The engine applies the same step in SQL.
 */
export function recentStep(n: number, o: Pick<ChangeOptions, "window">) {
  const g = recentDecay(o);
  const keep = g ** n;
  return { keep, each: n === 0 ? 0 : (1 - keep) / (1 - g) / n };
}

/** The recent window after `successes` and `failures` more outcomes. */
export function observeRecent(
  recent: RecentCounts | undefined,
  successes: number,
  failures: number,
  o: Pick<ChangeOptions, "window">,
): RecentCounts {
  const { keep, each } = recentStep(successes + failures, o);
  return {
    successes: (recent?.successes ?? 0) * keep + successes * each,
    failures: (recent?.failures ?? 0) * keep + failures * each,
  };
}

/** The arm's recent rate against its long-run rate, in standard errors of the recent one. */
export function changeScore(arm: ArmState, o: Pick<ChangeOptions, "minRecent">): number {
  const r = arm.recent;
  if (!r) return 0;
  const long = arm.closed ?? arm;
  const n = r.successes + r.failures;
  const total = long.successes + long.failures;
  if (n < o.minRecent || total <= n) return 0;
  // The long-run rate with a Beta(1, 1)-like pseudo-count, so a rate of 0 has a spread.
  const p = (long.successes + 0.5) / (total + 1);
  const se = Math.sqrt((p * (1 - p)) / n);
  return (r.successes / n - p) / se;
}

/** The arms whose recent rate departs from their long-run rate by more than the threshold. */
export function changedArms(arms: ArmState[], o: ChangeOptions): string[] {
  return arms
    .filter((a) => a.status !== "paused" && Math.abs(changeScore(a, o)) > o.threshold)
    .map((a) => a.id);
}

/**
 * The segment's arms after a detected change: each starts over from its recent window,
 * scaled to at most `keep` pseudo-observations (long-run, closed and recent alike), and every
 * suppressed arm is active again — re-tested, since what it lost to may have changed.
 * Guardrail pauses stand: they are about harm, not about which message converts best.
 */
export function restart(arms: ArmState[], o: Pick<ChangeOptions, "keep">): ArmState[] {
  return arms.map((a) => {
    const from = a.recent ?? { successes: a.successes, failures: a.failures };
    const n = from.successes + from.failures;
    const scale = n > o.keep ? o.keep / n : 1;
    const counts = { successes: from.successes * scale, failures: from.failures * scale };
    return {
      ...a,
      ...counts,
      recent: { ...counts },
      ...(a.closed ? { closed: { ...counts } } : {}),
      lowChecks: 0,
      status: a.status === "suppressed" ? ("active" as const) : a.status,
    };
  });
}
