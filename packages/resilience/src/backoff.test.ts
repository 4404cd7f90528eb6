import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.ts";

const policy = { initialMs: 100, maxMs: 1_000 };

describe("backoffDelay", () => {
  it("doubles its ceiling per attempt up to maxMs", () => {
    const top = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
  });

  it("draws anywhere from zero to the ceiling (full jitter)", () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    const draws = Array.from({ length: 2_000 }, () => backoffDelay(3, policy));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(400);
    // Spread over the whole range, not bunched at the top like a fixed floor would be.
    expect(draws.filter((d) => d < 200).length).toBeGreaterThan(600);
    expect(draws.filter((d) => d >= 200).length).toBeGreaterThan(600);
  });
});
