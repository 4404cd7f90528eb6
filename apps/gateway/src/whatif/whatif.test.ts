// The what-if route on PGlite + the in-process bus, with decisions the gateway learns
// from the topics only: requests (variant, propensity, each arm's P(best)) made the way
// the engine makes them, their outcomes and dispatch verdicts. The logged policy as a
// candidate earns exactly the logged rate; a fixed variant is estimated around its true
// rate; open windows and withdrawn requests are not counted; too few decisions get an
// honest answer; a bad candidate is a 400 naming the field.
import { publishEvents } from "@pw/bus";
import { envelope, Topics } from "@pw/events";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestSession, testGateway } from "../../test/auth-helpers.ts";

const DAY = 86_400_000;
/** Hidden meeting rates per variant. */
const RATES: Record<string, number> = { a: 0.04, b: 0.3, c: 0.12 };
const ARMS = Object.keys(RATES);

/** Seeded (mulberry32): the same log every run. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The engine's rule (@pw/bandit `choose`, floor 0.01, P(best)²): each arm's probability. */
function shares(pBest: number[], burnIn: boolean): number[] {
  const k = pBest.length;
  if (burnIn) return pBest.map(() => 1 / k);
  const floorMass = Math.min(0.5, 0.01 * k);
  const w = pBest.map((p) => p ** 2);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => floorMass / k + (1 - floorMass) * (x / total));
}

type Interval = [number, number];
type WhatIf = {
  candidate: string;
  enough: boolean;
  n: number;
  decisions: { logged: number };
  estimate: number;
  interval: Interval;
  estimators: { ips: { estimate: number; interval: Interval } };
  effectiveSampleSize: number;
  baseline: { rate: number };
  sentence: string;
};

type Decision = { leadId: string; requestId: string; variantId: string; at: number; won: boolean };

/** Requests (and their meetings) for a segment, as the engine and ingest publish them. */
async function logDecisions(
  gw: TestGateway,
  o: { segment: string; n: number; start: number; seed: number; ids?: string },
): Promise<Decision[]> {
  const random = rng(o.seed);
  const decisions: Decision[] = [];
  const requests = [];
  const outcomes = [];
  for (let i = 0; i < o.n; i++) {
    const burnIn = i < 60;
    const pBest = i < 150 ? [0.25, 0.45, 0.3] : [0.1, 0.7, 0.2];
    const probs = shares(pBest, burnIn);
    let x = random();
    let arm = ARMS.length - 1;
    for (let j = 0; j < ARMS.length; j++) {
      x -= probs[j]!;
      if (x < 0) {
        arm = j;
        break;
      }
    }
    const variantId = ARMS[arm]!;
    const at = o.start + i * 60_000;
    const ids = o.ids ?? o.segment;
    const leadId = `${ids}-lead-${i}`;
    const requestId = `${ids}-req-${i}`;
    const won = random() < RATES[variantId]!;
    decisions.push({ leadId, requestId, variantId, at, won });
    requests.push(
      envelope({
        type: "outreach.requested.v1",
        source: "pw://experiments",
        subject: leadId,
        time: new Date(at).toISOString(),
        data: {
          requestId,
          segment: o.segment,
          variantId,
          channel: "email" as const,
          to: `${leadId}@example.com`,
          subject: "Hello",
          body: "Hi",
          priority: 50,
          cadenceStep: 0,
          track: "experiment" as const,
          explanation: {
            summary: `Chose ${variantId}`,
            policy: burnIn ? ("burn_in" as const) : ("thompson" as const),
            propensity: probs[arm]!,
            arms: ARMS.map((id, j) => ({
              variantId: id,
              mean: 0.1,
              low: 0.05,
              high: 0.15,
              pBest: pBest[j]!,
              exposures: burnIn ? i : 100 + i,
            })),
          },
          requestedAt: new Date(at).toISOString(),
        },
      }),
    );
    if (won)
      outcomes.push(
        envelope({
          type: "outreach.outcome.v1",
          source: "pw://ingest",
          subject: leadId,
          time: new Date(at + DAY).toISOString(),
          data: {
            outcome: "meeting_booked" as const,
            occurredAt: new Date(at + DAY).toISOString(),
            requestId,
            variantId,
          },
        }),
      );
  }
  await publishEvents(gw.bus, Topics.outreachRequested, requests);
  await publishEvents(gw.bus, Topics.outreachOutcomes, outcomes);
  return decisions;
}

describe("what-if on the gateway's decision log", () => {
  let gw: TestGateway;
  let viewer: TestSession;
  let rich: Decision[];

  beforeAll(async () => {
    gw = await testGateway();
    viewer = await gw.session("wanda", "viewer");
    const now = Date.now();
    rich = await logDecisions(gw, { segment: "vp_mid", n: 300, start: now - 30 * DAY, seed: 11 });
    // Still inside their 14-day window: not counted yet.
    await logDecisions(gw, {
      segment: "vp_mid",
      n: 5,
      start: now - 2 * DAY,
      seed: 12,
      ids: "recent",
    });
    // A request dispatch skipped (the lead had opted out): withdrawn, as the engine does.
    const [withdrawn] = await logDecisions(gw, {
      segment: "vp_mid",
      n: 1,
      start: now - 29 * DAY,
      seed: 13,
      ids: "skipped",
    });
    await publishEvents(gw.bus, Topics.outreachDispatched, [
      envelope({
        type: "outreach.dispatched.v1",
        source: "pw://dispatch",
        subject: withdrawn!.leadId,
        data: {
          requestId: withdrawn!.requestId,
          variantId: withdrawn!.variantId,
          channel: "email" as const,
          status: "skipped" as const,
          reason: "unsubscribed",
          provider: { name: "local" as const },
          cadenceStep: 0,
          attempt: 1,
          at: new Date(now - 29 * DAY).toISOString(),
        },
      }),
    ]);
    await logDecisions(gw, { segment: "thin", n: 12, start: now - 30 * DAY, seed: 14 });
  }, 60_000);
  afterAll(() => gw?.stop());

  const whatIf = (segment: string, body: unknown) =>
    gw.as(viewer, {
      method: "POST",
      url: `/api/experiments/${segment}/whatif`,
      payload: body as object,
    });
  /** Once the gateway has projected everything published for the segment. */
  const settledAnswer = async (segment: string, body: unknown, logged: number) =>
    (await waitFor(
      async () => {
        const r = await whatIf(segment, body);
        const json = r.json();
        return r.statusCode === 200 && json.decisions.logged === logged ? json : undefined;
      },
      { timeoutMs: 30_000, message: `the ${segment} decisions projected` },
    )) as WhatIf;

  it("scores the logged policy at exactly its logged rate, on the decisions whose window closed", async () => {
    const r = await settledAnswer("vp_mid", { candidate: "thompson" }, 306);
    const won = rich.filter((d) => d.won).length;
    expect(r).toMatchObject({
      segment: "vp_mid",
      candidate: "thompson",
      reward: "meeting_booked",
      windowDays: 14,
      enough: true,
      n: 300,
      decisions: { logged: 306, settled: 300, open: 5, withdrawn: 1, notEvaluable: 0 },
      estimator: "snips",
      warnings: [],
    });
    expect(r.baseline.rate).toBeCloseTo(won / 300, 12);
    expect(r.estimate).toBeCloseTo(won / 300, 12);
    expect(r.estimators.ips.estimate).toBeCloseTo(won / 300, 12);
    expect(r.effectiveSampleSize).toBeCloseTo(300, 6);
    expect(r.interval[0]).toBeLessThan(r.estimate);
    expect(r.interval[1]).toBeGreaterThan(r.estimate);
    expect(r.sentence).toMatch(
      /^On 300 decisions for vp_mid, thompson would have reached a meeting rate of about .*against .* for the policy that ran\. The interval includes the logged rate: no evidence it is better or worse\.$/,
    );
  });

  it("estimates one fixed variant around its true rate, with how much the log is worth for it", async () => {
    const r = await settledAnswer("vp_mid", { candidate: { kind: "fixed", variant: "b" } }, 306);
    expect(r.candidate).toBe("fixed:b");
    expect(r.interval[0]).toBeLessThan(RATES.b!);
    expect(r.interval[1]).toBeGreaterThan(RATES.b!);
    expect(r.effectiveSampleSize).toBeLessThan(300);
    expect(r.effectiveSampleSize).toBeGreaterThan(30);
    expect(r.sentence).toContain("fixed:b would have reached a meeting rate of about");
  });

  it("answers honestly when there are too few decisions", async () => {
    const r = await settledAnswer("thin", { candidate: { kind: "uniform" } }, 12);
    expect(r).toMatchObject({
      enough: false,
      n: 12,
      estimate: null,
      interval: null,
      effectiveSampleSize: null,
    });
    expect(r.sentence).toMatch(
      /^Not enough to say: only 12 decisions for thin can be scored, and at least 30 are needed\./,
    );
    // The default window is longer than the gateway keeps events: it says so, and what to do.
    expect(r.sentence).toContain("GATEWAY_STREAM_RETENTION_HOURS");
    const empty = await whatIf("nobody", { candidate: "uniform" });
    expect(empty.statusCode).toBe(200);
    expect(empty.json()).toMatchObject({ enough: false, n: 0, decisions: { logged: 0 } });
  });

  it("refuses a candidate it cannot evaluate, naming the field", async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ candidate: { kind: "threshold", threshold: 2 } }, "candidate.threshold", /1/],
      [
        { candidate: { kind: "thompson", prior: { alpha: 2, beta: 60 } } },
        "candidate.prior",
        /successes and failures/,
      ],
      [{ candidate: "thompson:burnIn=10" }, "candidate", /pooled-prior weight/],
      [{ candidate: "greedy" }, "candidate", /unknown candidate "greedy"/],
      [{ candidate: "uniform", windowDays: 0 }, "windowDays", /./],
      [{ candidate: "uniform", reward: "opened" }, "reward", /./],
      [{}, "candidate", /./],
    ];
    for (const [body, field, message] of cases) {
      const r = await whatIf("vp_mid", body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().issues[0], JSON.stringify(body)).toMatchObject({
        field,
        message: expect.stringMatching(message),
      });
    }
    const unknownVariant = await whatIf("vp_mid", { candidate: { kind: "fixed", variant: "zzz" } });
    expect(unknownVariant.statusCode).toBe(400);
    expect(unknownVariant.json().issues[0].field).toBe("candidate.variant");
  });

  it("answers viewers and above only", async () => {
    expect(
      (
        await gw.as(undefined, {
          method: "POST",
          url: "/api/experiments/vp_mid/whatif",
          payload: {},
        })
      ).statusCode,
    ).toBe(401);
  });
});
