// Change detection: the recent window, the test, and starting over.
import { describe, expect, it } from "vitest";
import {
  type ChangeOptions,
  changedArms,
  changeScore,
  observeRecent,
  recentDecay,
  restart,
} from "./change.ts";
import { seededRng } from "./random.ts";
import type { ArmState } from "./thompson.ts";

const o: ChangeOptions = { window: 1_000, threshold: 3.5, minRecent: 400, keep: 15 };

/** An arm that converted at `longRun` for `n` sends, and at `recent` over its recent window. */
function arm(id: string, longRun: number, n: number, recent: number, status = "active"): ArmState {
  const w = o.window;
  return {
    id,
    successes: longRun * n,
    failures: (1 - longRun) * n,
    exposures: n,
    status: status as ArmState["status"],
    recent: { successes: recent * w, failures: (1 - recent) * w },
  };
}

describe("change detection", () => {
  it("a batch of outcomes moves the window as the same outcomes one at a time would, in total", () => {
    const one = [1, 0, 0, 1, 0].reduce(
      (r, x) => observeRecent(r, x, 1 - x, o),
      observeRecent(undefined, 3, 40, o),
    );
    const batch = observeRecent(observeRecent(undefined, 3, 40, o), 2, 3, o);
    expect(batch.successes + batch.failures).toBeCloseTo(one.successes + one.failures, 9);
    // The window holds about `window` sends however many go through it.
    let r = observeRecent(undefined, 0, 0, o);
    for (let i = 0; i < 20; i++) r = observeRecent(r, 50, 950, o);
    expect(r.successes + r.failures).toBeGreaterThan(0.99 * o.window);
    expect(r.successes + r.failures).toBeLessThanOrEqual(o.window);
    expect(r.successes / (r.successes + r.failures)).toBeCloseTo(0.05, 9);
    expect(recentDecay(o)).toBeCloseTo(0.999, 12);
  });

  it("flags an arm whose recent rate fell or rose far from its long run, and not one within noise", () => {
    expect(changedArms([arm("fell", 0.05, 20_000, 0.02)], o)).toEqual(["fell"]);
    expect(changedArms([arm("rose", 0.02, 20_000, 0.045)], o)).toEqual(["rose"]);
    expect(changedArms([arm("steady", 0.05, 20_000, 0.043)], o)).toEqual([]);
    expect(changeScore(arm("fell", 0.05, 20_000, 0.02), o)).toBeLessThan(-3.5);
    // Too few recent sends to judge: untested.
    const thin = { ...arm("thin", 0.05, 300, 0.0), recent: { successes: 0, failures: 300 } };
    expect(changedArms([thin], o)).toEqual([]);
    // A paused arm is about harm, not learning: untested.
    expect(changedArms([arm("paused", 0.05, 20_000, 0.01, "paused")], o)).toEqual([]);
  });

  it("on stationary outcomes the test stays quiet (false alarms under 1 in 1,000 checks)", () => {
    const rng = seededRng(7);
    let a: ArmState = { id: "a", successes: 0, failures: 0, exposures: 0, status: "active" };
    let alarms = 0;
    for (let check = 0; check < 2_000; check++) {
      let s = 0;
      for (let i = 0; i < 500; i++) s += rng() < 0.05 ? 1 : 0;
      a = {
        ...a,
        successes: a.successes + s,
        failures: a.failures + 500 - s,
        exposures: a.exposures + 500,
        recent: observeRecent(a.recent, s, 500 - s, o),
      };
      if (changedArms([a], o).length > 0) alarms++;
    }
    expect(alarms).toBeLessThanOrEqual(2);
  });

  it("starting over keeps at most `keep` pseudo-observations at the recent rate and re-tests the suppressed", () => {
    const arms = [
      arm("leader", 0.05, 20_000, 0.02),
      arm("loser", 0.02, 400, 0.02, "suppressed"),
      arm("harmful", 0.03, 400, 0.03, "paused"),
    ];
    const next = restart(arms, o);
    for (const a of next) {
      expect(a.successes + a.failures).toBeCloseTo(o.keep, 9);
      expect(a.recent).toEqual({ successes: a.successes, failures: a.failures });
      expect(a.exposures).toBe(arms.find((x) => x.id === a.id)!.exposures);
    }
    expect(next[0]!.successes / o.keep).toBeCloseTo(0.02, 9);
    expect(next.map((a) => a.status)).toEqual(["active", "active", "paused"]);
  });
});
