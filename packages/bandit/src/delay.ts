/**
 * Delayed rewards. A meeting arrives days after its send, and a send without one is known
 * to have failed only when its attribution window closes; counting rewards as they arrive
 * and failures as windows close makes every arm with sends in flight look better than it
 * is — the more so, the more of its traffic is recent — enough to suppress the true best
 * early in a campaign. So a send in flight whose reward has not come counts as the share
 * of a failure its age makes likely: F(age), the share of rewards that arrive within that
 * age. F is learnt from sends whose window has closed (their delays are all known),
 * shrunk, while there are few, towards F = 1: a send in flight counts as a failure until
 * the campaign has shown how late its rewards come. That pessimism corrects itself (an
 * arm whose traffic grows looks worse and gets less), where optimism feeds on itself; a
 * uniform delay as the prior had a slightly lower mean regret but a tail three times as
 * long (ADR 0015). Pure.
 */

/** Sends in flight (decided, no reward yet, window open) of one age, in whole days. */
export type InFlight = { ageDays: number; count: number };

/** Rewards per day of delay (index 0: within the first day), among closed windows. */
export type DelayCounts = number[];

/** Pseudo-rewards the prior (F = 1) is worth. */
export const DELAY_PRIOR_WEIGHT = 20;

/**
 * F(age in days): the share of a window's rewards that arrive within `age` of the send,
 * from the observed delays (linear within a day) and the prior F = 1.
 */
export function delayCdf(
  counts: DelayCounts,
  windowDays: number,
  priorWeight = DELAY_PRIOR_WEIGHT,
): (ageDays: number) => number {
  const days = Math.ceil(windowDays);
  const cumulative = [0];
  for (let d = 0; d < days; d++) cumulative.push(cumulative[d]! + (counts[d] ?? 0));
  const total = cumulative[days]!;
  return (age) => {
    if (age >= windowDays) return 1;
    if (age <= 0) return 0;
    const d = Math.floor(age);
    const observed = cumulative[d]! + (age - d) * (counts[d] ?? 0);
    return (observed + priorWeight) / (total + priorWeight);
  };
}

/** The failures an arm's sends in flight are worth: Σ count × F(age). */
export function inFlightFailures(inFlight: InFlight[], cdf: (ageDays: number) => number): number {
  return inFlight.reduce((n, f) => n + f.count * cdf(f.ageDays), 0);
}
