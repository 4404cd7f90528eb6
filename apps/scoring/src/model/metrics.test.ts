import { describe, expect, it } from "vitest";
import { sigmoid } from "./builtin.ts";
import { auc, type Example, ece, evaluate, logitOf, logLoss } from "./metrics.ts";

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** AUC by counting every positive–negative pair, ties half. */
function bruteForceAuc(p: number[], y: (0 | 1)[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < p.length; i++) {
    for (let j = 0; j < p.length; j++) {
      if (y[i] !== 1 || y[j] !== 0) continue;
      pairs++;
      wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

describe("auc", () => {
  it("is 1 for a perfect ranking, 0 reversed, 0.5 when everything ties", () => {
    const y: (0 | 1)[] = [0, 0, 0, 1, 1];
    expect(auc([0.1, 0.2, 0.3, 0.8, 0.9], y)).toBe(1);
    expect(auc([0.9, 0.8, 0.7, 0.2, 0.1], y)).toBe(0);
    expect(auc([0.4, 0.4, 0.4, 0.4, 0.4], y)).toBe(0.5);
  });

  it("counts a tie between a positive and a negative as half a pair", () => {
    // pairs: (0.5 vs 0.5) ½, (0.5 vs 0.1) 1, (0.9 vs 0.5) 1, (0.9 vs 0.1) 1 → 3.5 / 4
    expect(auc([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBe(0.875);
  });

  it("matches a brute-force pair count on random data with many ties", () => {
    const r = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + Math.floor(r() * 150);
      const p = Array.from({ length: n }, () => Math.round(r() * 10) / 10);
      const y = p.map((v) => (r() < v ? 1 : 0) as 0 | 1);
      expect(auc(p, y)).toBeCloseTo(bruteForceAuc(p, y), 12);
    }
  });

  it("is NaN when a class is absent, and refuses mismatched lengths", () => {
    expect(auc([0.1, 0.9], [0, 0])).toBeNaN();
    expect(auc([0.1, 0.9], [1, 1])).toBeNaN();
    expect(() => auc([0.1], [0, 1])).toThrow(/1 predictions but 2 labels/);
  });
});

describe("logLoss", () => {
  it("is the mean negative log-likelihood", () => {
    const expected = -(Math.log(0.9) + Math.log(0.8) + Math.log(0.4)) / 3;
    expect(logLoss([0.9, 0.2, 0.6], [1, 0, 0])).toBeCloseTo(expected, 12);
  });

  it("clips certain-and-wrong predictions to 1e-12 instead of returning Infinity", () => {
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-12), 3); // 27.631
    expect(logLoss([1, 0], [1, 0])).toBeCloseTo(0, 10);
  });
});

describe("ece", () => {
  it("is 0 for a model calibrated within every bin", () => {
    const p: number[] = [];
    const y: (0 | 1)[] = [];
    for (let k = 0; k < 10; k++) {
      // 20 examples at p = (2k+1)/20, of which exactly 2k+1 are positive
      for (let i = 0; i < 20; i++) {
        p.push((2 * k + 1) / 20);
        y.push(i < 2 * k + 1 ? 1 : 0);
      }
    }
    expect(ece(p, y)).toBeCloseTo(0, 12);
  });

  it("weighs each equal-count bin's gap by its share", () => {
    // bins {0.1, 0.2} → |0.15 − 0| and {0.8, 0.9} → |0.85 − 0.5|, each half the data
    expect(ece([0.9, 0.1, 0.8, 0.2], [1, 0, 0, 0], 2)).toBeCloseTo(0.25, 12);
  });

  it("does not flatter a model whose errors cancel inside one equal-width bin", () => {
    // 5% base rate: half the leads at 1% convert at 10%, half at 9% never convert.
    // One [0, 0.1) bin would average both to 5% vs 5% and report 0.
    const p = [...Array(50).fill(0.01), ...Array(50).fill(0.09)];
    const y = p.map((v, i) => (v === 0.01 && i % 10 === 0 ? 1 : 0) as 0 | 1);
    expect(ece(p, y)).toBeCloseTo(0.09, 12);
  });

  it("uses one bin per example when there are fewer examples than bins", () => {
    expect(ece([0.2, 0.7], [0, 1])).toBeCloseTo((0.2 + 0.3) / 2, 12);
    expect(ece([], [])).toBeNaN();
  });
});

describe("evaluate", () => {
  it("scores each example with bias + Σ w·x (a missing name is 0) and reports rounded metrics", () => {
    const weights = { bias: 0, a: 2, unused: 5 };
    const examples: Example[] = [
      { x: { a: 0 }, y: 0 },
      { x: { a: 1 }, y: 1 },
      { x: {}, y: 1 },
      { x: { a: -1, unknown: 3 }, y: 0 },
    ];
    expect(logitOf(weights, { a: -1, unknown: 3 })).toBe(-2);
    const p = [0.5, sigmoid(2), 0.5, sigmoid(-2)];
    const ll =
      -(Math.log(0.5) + Math.log(sigmoid(2)) + Math.log(0.5) + Math.log(1 - sigmoid(-2))) / 4;
    const m = evaluate(weights, examples);
    expect(m).toEqual({
      n: 4,
      positives: 2,
      baseRate: 0.5,
      meanPredicted: 0.5,
      auc: 0.875,
      logLoss: Math.round(ll * 1e6) / 1e6,
      ece: m.ece,
    });
    // Equal-count bins of one: mean |p − y|.
    const gap = p.reduce((s, v, i) => s + Math.abs(v - examples[i]!.y), 0) / 4;
    expect(m.ece).toBeCloseTo(gap, 6);
  });
});
