/**
 * The engine's learning between batches, for `simulate`'s Thompson runs — in the order the
 * engine's review runs it: sends whose window closed feed change detection; pooled priors;
 * a segment whose arm's recent rate departed starts over (re-testing its suppressed arms);
 * then P(best) and suppression on the arms as judged with their sends in flight counted
 * as their likely failures (@pw/bandit delay.ts).
 */
import {
  type ArmState,
  applySuppression,
  changedArms,
  inBurnIn,
  inFlightFailures,
  observeRecent,
  type PolicyOptions,
  probabilityBest,
  type Rng,
  restart,
  withPooledPriors,
} from "@pw/bandit";
import type { PolicyResult, SimOptions } from "./simulate.ts";
import type { trafficBook } from "./traffic.ts";

type Arms = Map<string, ArmState[]>;
type Book = ReturnType<typeof trafficBook>;

export function thompsonLearner(o: SimOptions, policy: PolicyOptions, rng: Rng) {
  const pBest = new Map<string, Map<string, number>>();
  const suppressed: PolicyResult["suppressed"] = [];
  const changes: PolicyResult["changes"] = [];

  /** Sends whose attribution window closed: their arm's closed counts and recent window. */
  function close(arms: Arms, lead: number, book: Book) {
    const change = o.change;
    if (!change) return;
    for (const c of book.closed(lead)) {
      const list = arms.get(c.segment)!;
      const i = list.findIndex((a) => a.id === c.variant);
      const a = list[i]!;
      const closed = a.closed ?? { successes: 0, failures: 0 };
      list[i] = {
        ...a,
        closed: {
          successes: closed.successes + c.reward,
          failures: closed.failures + 1 - c.reward,
        },
        recent: observeRecent(a.recent, c.reward, 1 - c.reward, change),
      };
    }
  }

  function learn(arms: Arms, lead: number, book: Book) {
    close(arms, lead, book);
    if (o.pooledPrior)
      for (const [segment, list] of withPooledPriors(arms, o.pooledPrior, policy.prior))
        arms.set(segment, list);
    if (o.change)
      for (const [segment, list] of arms) {
        const moved = changedArms(list, o.change);
        if (moved.length === 0) continue;
        arms.set(segment, restart(list, o.change));
        changes.push({ segment, arms: moved, atLead: lead });
      }
    const flying = o.delayCorrection === false ? undefined : book.inFlight(lead);
    for (const [segment, list] of arms) {
      // The arms as the policy judges them: sends in flight count as likely failures.
      const view = flying
        ? list.map((a) => ({
            ...a,
            failures:
              a.failures +
              inFlightFailures(flying.ages.get(flying.key(segment, a.id)) ?? [], flying.cdf),
          }))
        : list;
      const active = view.filter((a) => a.status === "active");
      if (active.length === 0) continue; // every variant paused by a guardrail: blocked
      const probs = probabilityBest(active, policy, rng);
      pBest.set(segment, probs);
      // Suppression starts after the burn-in, when P(best) means something.
      if (o.suppression && !inBurnIn(active, policy)) {
        const r = applySuppression(view, probs, o.suppression);
        arms.set(
          segment,
          list.map((a, i) => ({
            ...a,
            status: r.arms[i]!.status,
            lowChecks: r.arms[i]!.lowChecks,
          })),
        );
        for (const v of r.suppressed) suppressed.push({ segment, variant: v, atLead: lead });
      }
    }
  }

  return { pBest, suppressed, changes, learn };
}
