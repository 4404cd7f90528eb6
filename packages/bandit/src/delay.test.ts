// Delayed rewards: sends in flight count as the failures their age makes likely.
import { describe, expect, it } from "vitest";
import { DELAY_PRIOR_WEIGHT, delayCdf, inFlightFailures } from "./delay.ts";

describe("delayed rewards", () => {
  it("with no closed window yet, a send in flight counts as a failure (the prior F = 1)", () => {
    const f = delayCdf([], 14);
    expect(f(0.5)).toBe(1);
    expect(f(13)).toBe(1);
    expect(f(0)).toBe(0); // not sent yet, not judged
  });

  it("learns how late rewards come from closed windows, and counts young sends as less of a failure", () => {
    // 2,000 rewards: 60% within a day, 90% within three, all within seven.
    const counts = [1_200, 400, 200, 100, 50, 30, 20];
    const f = delayCdf(counts, 14);
    const weight = (x: number) => (x + DELAY_PRIOR_WEIGHT) / (2_000 + DELAY_PRIOR_WEIGHT);
    expect(f(1)).toBeCloseTo(weight(1_200), 9);
    expect(f(3)).toBeCloseTo(weight(1_800), 9);
    expect(f(0.5)).toBeCloseTo(weight(600), 9); // linear within a day
    expect(f(7)).toBeCloseTo(1, 9);
    expect(f(14)).toBe(1);
    // 100 sends a day old and 100 five days old: about 60 + 98 failures' worth.
    const failures = inFlightFailures(
      [
        { ageDays: 1, count: 100 },
        { ageDays: 5, count: 100 },
      ],
      f,
    );
    expect(failures).toBeCloseTo(100 * weight(1_200) + 100 * weight(1_950), 6);
  });

  it("an arm judged with its sends in flight is not flattered by rewards that come early", () => {
    // Two arms converting 5% with rewards a day or two late; A sent most of its 1,000 sends
    // in the last two days (a ramp-up), B long ago. Counted as they arrive, A looks better.
    const f = delayCdf([500, 400, 100], 14);
    const aSettled = { successes: 30, failures: 200 }; // 770 in flight, 20 of their rewards in
    const aInFlight = [{ ageDays: 1.5, count: 770 }];
    const naive = aSettled.successes / (aSettled.successes + aSettled.failures);
    const judged =
      aSettled.successes /
      (aSettled.successes + aSettled.failures + inFlightFailures(aInFlight, f));
    expect(naive).toBeGreaterThan(0.1);
    expect(judged).toBeLessThan(0.06);
  });
});
