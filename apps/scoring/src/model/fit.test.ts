import { describe, expect, it } from "vitest";
import { sigmoid, type Weights } from "./builtin.ts";
import {
  fitLogistic,
  holdoutSplit,
  shouldPromote,
  solveLinearSystem,
  tierThresholds,
} from "./fit.ts";
import { type Example, evaluate, logitOf, type Metrics, pairedGain } from "./metrics.ts";

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model the simulated labels come from (7 features, ~40% base rate). */
const TRUE: Weights = {
  bias: -2.5,
  seniority: 1.0,
  company_size_fit: 0.6,
  industry_fit: 0.8,
  intent: 2.0,
  engagement: 1.2,
  opted_out: -1.5,
  recency: -0.7,
};

/** Deliberately wrong: wrong signs, wrong sizes, and no `recency` at all. */
const WRONG_PRIOR: Weights = {
  bias: 0,
  seniority: -1,
  company_size_fit: 1.5,
  industry_fit: 0,
  intent: 0,
  engagement: -0.5,
  opted_out: 1,
};

/** `n` leads drawn from `weights`, in time order, with features like the scorer's (0, ½, 1 levels and flags). */
function simulate(n: number, weights: Weights, seed: number): Example[] {
  const r = mulberry32(seed);
  const level = () => Math.floor(r() * 3) / 2;
  const flag = (q: number) => (r() < q ? 1 : 0);
  return Array.from({ length: n }, () => {
    const x = {
      seniority: level(),
      company_size_fit: level(),
      industry_fit: flag(0.5),
      intent: flag(0.5),
      engagement: level(),
      opted_out: flag(0.3),
      recency: level(),
    };
    let z = weights.bias ?? 0;
    for (const [k, v] of Object.entries(x)) z += (weights[k] ?? 0) * v;
    return { x, y: r() < sigmoid(z) ? 1 : 0 };
  });
}

describe("solveLinearSystem", () => {
  it("solves a system that needs a row swap (zero on the first pivot)", () => {
    const a = [
      [0, 2, 1],
      [1, 1, 1],
      [2, 1, 0],
    ];
    const x = [1, -2, 3];
    const b = a.map((row) => row.reduce((s, v, j) => s + v * x[j]!, 0));
    const solved = solveLinearSystem(a, b);
    solved.forEach((v, j) => {
      expect(v).toBeCloseTo(x[j]!, 12);
    });
    expect(a[0]).toEqual([0, 2, 1]); // inputs untouched
  });

  it("refuses a singular matrix", () => {
    expect(() =>
      solveLinearSystem(
        [
          [1, 2],
          [2, 4],
        ],
        [1, 2],
      ),
    ).toThrow(/singular/);
  });
});

describe("fitLogistic", () => {
  const data = simulate(20_000, TRUE, 1);

  it("recovers known weights from 20k simulated labels, starting from a wrong prior", () => {
    const t0 = performance.now();
    const fit = fitLogistic(data, { prior: WRONG_PRIOR, l2: 2 });
    const ms = performance.now() - t0;
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThanOrEqual(10);
    expect(Object.keys(fit.weights).sort()).toEqual(Object.keys(TRUE).sort());
    for (const [name, w] of Object.entries(TRUE)) {
      expect(Math.abs(fit.weights[name]! - w), name).toBeLessThan(0.15);
    }
    // Generous: it takes ~50–150 ms; this only catches an accidental blow-up.
    expect(ms).toBeLessThan(5_000);
  });

  it("is deterministic, and a warm start from its own answer stops at once", () => {
    const a = fitLogistic(data, { prior: WRONG_PRIOR, l2: 2 });
    expect(fitLogistic(data, { prior: WRONG_PRIOR, l2: 2 })).toEqual(a);
    const again = fitLogistic(data, { prior: WRONG_PRIOR, l2: 2, start: a.weights });
    expect(again.iterations).toBeLessThanOrEqual(1);
    for (const [name, w] of Object.entries(a.weights)) {
      expect(again.weights[name]).toBeCloseTo(w, 6);
    }
  });

  it("leaves a feature that is always 0 (or never present) at its prior, whatever the start", () => {
    const r = mulberry32(3);
    const examples: Example[] = Array.from({ length: 2_000 }, () => {
      const a = r();
      return { x: { a, dead: 0 }, y: r() < sigmoid(-1 + 2 * a) ? 1 : 0 };
    });
    const prior = { bias: 0, a: 0, dead: 1.4, absent: -4 };
    const fit = fitLogistic(examples, { prior, l2: 2, start: { dead: 5, absent: 3 } });
    expect(fit.converged).toBe(true);
    expect(fit.weights.dead).toBeCloseTo(1.4, 9);
    expect(fit.weights.absent).toBeCloseTo(-4, 9);
    expect(fit.weights.a).toBeGreaterThan(1.5);
  });

  it("keeps the weights finite under perfect separation", () => {
    const examples: Example[] = Array.from({ length: 1_000 }, (_, i) => {
      const y = i % 3 === 0 ? 1 : 0;
      return { x: { s: y, noise: (i % 7) / 7 }, y };
    });
    const fit = fitLogistic(examples, { prior: { bias: 0, s: 0, noise: 0 }, l2: 2 });
    expect(fit.converged).toBe(true);
    for (const w of Object.values(fit.weights)) expect(Number.isFinite(w)).toBe(true);
    expect(fit.weights.s).toBeGreaterThan(5);
    expect(fit.weights.s).toBeLessThan(100);
    // Still a perfect classifier, and a stronger prior holds the weight back.
    expect(evaluate(fit.weights, examples).auc).toBe(1);
    const strong = fitLogistic(examples, { prior: { bias: 0, s: 0, noise: 0 }, l2: 50 });
    expect(strong.weights.s).toBeLessThan(fit.weights.s!);
  });

  it("sends the bias to a large but finite value when every label is the same", () => {
    const examples: Example[] = Array.from({ length: 5_000 }, (_, i) => ({
      x: { a: (i % 10) / 10 },
      y: 0,
    }));
    const fit = fitLogistic(examples, { prior: { bias: -2, a: 0.7 }, l2: 2 });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(50);
    expect(fit.weights.bias).toBeLessThan(-15);
    expect(fit.weights.bias).toBeGreaterThan(-60);
    expect(fit.weights.a).toBeCloseTo(0.7, 3);

    const allPositive = examples.map((e) => ({ ...e, y: 1 as const }));
    const up = fitLogistic(allPositive, { prior: { bias: -2, a: 0.7 }, l2: 2 });
    expect(up.weights.bias).toBeGreaterThan(15);
    expect(Number.isFinite(up.weights.bias)).toBe(true);
  });

  it("rejects non-finite feature values naming the feature, and bad labels", () => {
    const ok: Example = { x: { intent: 1 }, y: 1 };
    const prior = { bias: 0, intent: 1 };
    expect(() => fitLogistic([ok, { x: { intent: Number.NaN }, y: 0 }], { prior, l2: 1 })).toThrow(
      /example 1: feature "intent" is not a finite number/,
    );
    expect(() =>
      fitLogistic([{ x: { engagement: Number.POSITIVE_INFINITY }, y: 0 }], { prior, l2: 1 }),
    ).toThrow(/"engagement"/);
    expect(() => fitLogistic([{ x: {}, y: 2 as 0 }], { prior, l2: 1 })).toThrow(/label/);
    expect(() => fitLogistic([], { prior, l2: 1 })).toThrow(/no examples/);
  });
});

describe("holdoutSplit", () => {
  it("holds out the most recent fraction (examples are oldest first)", () => {
    const xs = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(holdoutSplit(xs)).toEqual({ train: [1, 2, 3, 4, 5, 6, 7, 8], holdout: [9, 10] });
    expect(holdoutSplit(xs, 0.5).holdout).toEqual([6, 7, 8, 9, 10]);
    expect(holdoutSplit(xs, 0)).toEqual({ train: xs, holdout: [] });
    expect(() => holdoutSplit(xs, 1.5)).toThrow(/fraction/);
  });
});

describe("shouldPromote", () => {
  const m = (over: Partial<Metrics>): Metrics => ({
    n: 2_000,
    positives: 100,
    baseRate: 0.05,
    meanPredicted: 0.05,
    auc: 0.7,
    logLoss: 0.18,
    ece: 0.02,
    ...over,
  });
  const active = m({ logLoss: 0.1844, auc: 0.702, ece: 0.081 });

  it("promotes a better candidate and says why with the figures", () => {
    expect(shouldPromote(m({ logLoss: 0.1712, auc: 0.741, ece: 0.006 }), active)).toEqual({
      promote: true,
      reason:
        "candidate log-loss 0.1712 < active 0.1844 on 2,000 recent labels (AUC 0.741 vs 0.702, ECE 0.006 vs 0.081)",
    });
  });

  it("refuses a worse log-loss, and one better only by noise", () => {
    const worse = shouldPromote(m({ logLoss: 0.2511, auc: 0.75, ece: 0.01 }), active);
    expect(worse.promote).toBe(false);
    expect(worse.reason).toMatch(/^not promoted: log-loss 0\.2511 ≥ active 0\.1844 on 2,000/);
    const noise = shouldPromote(m({ logLoss: 0.1843, auc: 0.75, ece: 0.01 }), active);
    expect(noise.promote).toBe(false);
    expect(noise.reason).toMatch(/0\.1843 is less than 0\.1% below active 0\.1844/);
  });

  it("refuses a lower log-loss bought with a worse ranking or calibration", () => {
    const ranking = shouldPromote(m({ logLoss: 0.17, auc: 0.69, ece: 0.01 }), active);
    expect(ranking).toMatchObject({ promote: false });
    expect(ranking.reason).toMatch(/^not promoted: AUC 0\.690 is more than 0\.005 below/);
    const calibration = shouldPromote(m({ logLoss: 0.17, auc: 0.71, ece: 0.095 }), active);
    expect(calibration).toMatchObject({ promote: false });
    expect(calibration.reason).toMatch(/^not promoted: ECE 0\.095 is more than 0\.01 above/);
  });

  it("refuses to judge on too few labels or on different holdouts", () => {
    const small = { n: 120, positives: 12 };
    expect(shouldPromote(m({ ...small, logLoss: 0.1 }), m(small)).reason).toBe(
      "not promoted: only 120 holdout labels (need 200)",
    );
    const rare = { positives: 4 };
    expect(shouldPromote(m({ ...rare, logLoss: 0.1 }), m(rare)).reason).toBe(
      "not promoted: only 4 positive holdout labels (need 10)",
    );
    const other = shouldPromote(m({ logLoss: 0.1 }), m({ n: 3_000 }));
    expect(other.promote).toBe(false);
    expect(other.reason).toMatch(/different holdouts/);
    expect(
      shouldPromote(m({ ...small, logLoss: 0.1 }), m(small), { minHoldout: 100 }).promote,
    ).toBe(true);
  });
});

describe("refit and promotion end to end", () => {
  // 25k leads from the true model, oldest first; the newest 5k are a clean holdout.
  const { train, holdout } = holdoutSplit(simulate(25_000, TRUE, 11), 0.2);
  const prior = WRONG_PRIOR;

  const poisonings: [string, (e: Example, i: number, r: () => number) => 0 | 1][] = [
    [
      "a quarter of the labels flipped at random",
      (e, _i, r) => (r() < 0.25 ? 1 - e.y : e.y) as 0 | 1,
    ],
    ["every label flipped", (e) => (1 - e.y) as 0 | 1],
    ["every conversion with intent recorded as a loss", (e) => (e.x.intent === 1 ? 0 : e.y)],
  ];

  it.each(poisonings)(
    "does not promote a refit on poisoned labels (%s) over the true model",
    (_, poison) => {
      const r = mulberry32(5);
      const poisoned = train.map((e, i) => ({ x: e.x, y: poison(e, i, r) }));
      const candidate = fitLogistic(poisoned, { prior, l2: 2 });
      const decision = shouldPromote(evaluate(candidate.weights, holdout), evaluate(TRUE, holdout));
      expect(decision.promote).toBe(false);
      expect(decision.reason).toMatch(/^not promoted: /);
    },
  );

  const paired = (candidate: Weights, active: Weights) => {
    const p = (w: Weights) => holdout.map((e) => sigmoid(logitOf(w, e.x)));
    return pairedGain(
      p(candidate),
      p(active),
      holdout.map((e) => e.y),
    );
  };

  it("does not promote a refit that only fits noise when the active model is already the truth", () => {
    // Refits on 8k labels of the truth, each judged on 2k newer ones: by chance the
    // candidate's holdout log-loss is lower now and then; the paired test sees it is noise.
    let promoted = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { train: sample, holdout: newer } = holdoutSplit(
        simulate(10_000, TRUE, 100 + seed),
        0.2,
      );
      const candidate = fitLogistic(sample, { prior: TRUE, l2: 2 }).weights;
      const p = (w: Weights) => newer.map((e) => sigmoid(logitOf(w, e.x)));
      const decision = shouldPromote(evaluate(candidate, newer), evaluate(TRUE, newer), {
        paired: pairedGain(
          p(candidate),
          p(TRUE),
          newer.map((e) => e.y),
        ),
      });
      if (decision.promote) promoted++;
    }
    expect(promoted).toBeLessThanOrEqual(1);
  });

  it("promotes a refit on clean labels over a wrong prior model", () => {
    const candidate = fitLogistic(train, { prior, l2: 2 });
    const decision = shouldPromote(evaluate(candidate.weights, holdout), evaluate(prior, holdout), {
      paired: paired(candidate.weights, prior),
    });
    expect(decision.promote).toBe(true);
    expect(decision.reason).toMatch(
      /^candidate log-loss 0\.\d{4} < active \d\.\d{4} on 5,000 recent labels/,
    );
  });
});

describe("tierThresholds", () => {
  it("puts the top 10% of 1..1000 at or above hot and the next 30% at or above warm", () => {
    const r = mulberry32(9);
    const predictions = Array.from({ length: 1000 }, (_, i) => i + 1).sort(() => r() - 0.5);
    const t = tierThresholds(predictions);
    // The 90th and 60th percentiles (linear interpolation, as numpy and R's default).
    expect(t.hot).toBeCloseTo(900.1, 9);
    expect(t.warm).toBeCloseTo(600.4, 9);
    expect(predictions.filter((p) => p >= t.hot)).toHaveLength(100);
    expect(predictions.filter((p) => p >= t.warm && p < t.hot)).toHaveLength(300);
  });

  it("puts every tied prediction at a cut-off in the higher tier", () => {
    // 15 leads share the top score: all 15 are hot, not an arbitrary 10 of them.
    const predictions = [...Array(85).fill(0.01), ...Array(15).fill(0.2)];
    const t = tierThresholds(predictions);
    expect(t).toEqual({ hot: 0.2, warm: 0.01 });
    expect(predictions.filter((p) => p >= t.hot)).toHaveLength(15);
  });

  it("refuses empty predictions and impossible fractions", () => {
    expect(() => tierThresholds([])).toThrow(/no predictions/);
    expect(() => tierThresholds([0.1], { hot: 0.5, warm: 0.2 })).toThrow(/hot ≤ warm/);
  });
});
