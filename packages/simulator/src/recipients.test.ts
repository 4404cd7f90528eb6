// The recipient model: what one send does and when, as the README composes a world's
// rates — checked on the frequencies of many sends, not on the code's arithmetic.
import { seededRng } from "@pw/bandit";
import { describe, expect, it } from "vitest";
import {
  drawSend,
  recipientAt,
  type SendOutcome,
  sampleDelay,
  sendOutcomes,
} from "./recipients.ts";
import type { World } from "./world.ts";

const world: World = {
  name: "r",
  variants: ["a", "b"],
  segments: [
    {
      name: "smb",
      share: 1,
      rates: { a: 0.03, b: 0.05 },
      outcomes: {
        "*": {
          hardBounce: 0.04,
          softBounce: 0.02,
          open: 0.5,
          click: 0.1,
          reply: 0.1,
          intents: {
            positive: 0.4,
            neutral: 0.2,
            objection: 0.2,
            out_of_office: 0.1,
            unsubscribe_request: 0.1,
          },
          unsubscribe: 0.01,
          dealsPerMeeting: 0.25,
          delays: {
            delivery: { dist: "fixed", hours: 0.1 },
            reply: { dist: "lognormal", medianHours: 20, p90Hours: 96 },
            meeting: { dist: "exponential", meanHours: 48 },
            deal: { dist: "fixed", hours: 300 },
          },
        },
      },
    },
  ],
  drift: { atFraction: 0.5, outcomes: { smb: { b: { hardBounce: 0.3 } } } },
};

/** Per-send frequencies of each outcome over `n` sends of a recipient. */
function frequencies(variant: string, n: number, lead = 0) {
  const r = recipientAt(world, "smb", variant, lead, 100);
  const rng = seededRng(11);
  const count: Record<string, number> = {};
  const sends: SendOutcome[][] = [];
  for (let i = 0; i < n; i++) {
    const out = drawSend(r, rng);
    sends.push(out);
    for (const o of out) {
      const k =
        o.kind === "replied"
          ? `replied:${o.intent}`
          : o.kind === "bounced"
            ? `bounced:${o.bounceType}`
            : o.kind;
      count[k] = (count[k] ?? 0) + 1 / n;
    }
  }
  return { count, sends };
}

describe("one send", () => {
  it("a world of meeting rates only: one draw, and a meeting exactly when it falls under the rate", () => {
    const r = recipientAt(
      { ...world, segments: [{ ...world.segments[0]!, outcomes: undefined }], drift: undefined },
      "smb",
      "a",
    );
    let draws = 0;
    const counted = (u: number) => () => {
      draws++;
      return u;
    };
    expect(drawSend(r, counted(0.029))).toEqual([
      { kind: "delivered", afterHours: 0 },
      { kind: "meeting_booked", afterHours: 0 },
    ]);
    expect(drawSend(r, counted(0.03))).toEqual([{ kind: "delivered", afterHours: 0 }]);
    expect(draws).toBe(2);
  });

  it("every rate is per send: meetings, replies by intent, opt-outs, bounces, opens, clicks, deals", () => {
    const { count } = frequencies("a", 200_000);
    const near = (k: string, p: number) => expect(count[k] ?? 0, k).toBeCloseTo(p, 2);
    near("meeting_booked", 0.03);
    near("replied:positive", 0.04);
    near("replied:neutral", 0.02);
    near("replied:objection", 0.02);
    near("replied:out_of_office", 0.01);
    near("replied:unsubscribe_request", 0.01);
    near("unsubscribed", 0.01);
    near("bounced:hard", 0.04);
    near("bounced:soft", 0.02);
    near("delivered", 0.94);
    near("opened", 0.5);
    near("clicked", 0.1);
    near("converted", 0.03 * 0.25);
  });

  it("a bounced send has no other outcome; a meeting follows a positive reply while there are some", () => {
    const { sends } = frequencies("a", 50_000);
    const broken = sends.filter((out) => {
      const at = (k: string) => out.find((o) => o.kind === k);
      const [meeting, reply, deal] = [at("meeting_booked"), at("replied"), at("converted")];
      const times = out.map((o) => o.afterHours);
      return (
        (at("bounced") && out.length > 1) ||
        times.some((t, i) => i > 0 && t < times[i - 1]!) ||
        // 4% positive replies cover 3% meetings: every meeting comes after one.
        (meeting && (reply?.intent !== "positive" || meeting.afterHours < reply.afterHours)) ||
        (deal && (!meeting || deal.afterHours !== meeting.afterHours + 300)) ||
        out.filter((o) => o.kind === "replied" || o.kind === "unsubscribed").length > 1
      );
    });
    expect(broken).toEqual([]);
    expect(sends.filter((o) => o.some((x) => x.kind === "converted")).length).toBeGreaterThan(0);
  });

  it("meetings beyond the positive replies are booked without a reply", () => {
    // b: 5% meetings, 4% positive replies: 1% of sends book straight from the mail.
    const { sends, count } = frequencies("b", 200_000);
    const direct = sends.filter(
      (o) => o.some((x) => x.kind === "meeting_booked") && !o.some((x) => x.kind === "replied"),
    );
    expect(direct.length / sends.length).toBeCloseTo(0.01, 2);
    expect(count["replied:positive"]).toBeCloseTo(0.04, 2);
  });

  it("the drift applies from its point of the run", () => {
    expect(recipientAt(world, "smb", "b", 49, 100).hardBounce).toBe(0.04);
    expect(recipientAt(world, "smb", "b", 50, 100).hardBounce).toBe(0.3);
    expect(recipientAt(world, "smb", "a", 50, 100).hardBounce).toBe(0.04);
    expect(() => recipientAt(world, "ent", "a")).toThrow(/segment 'ent'/);
    const out = sendOutcomes(world, "smb", "b", { lead: 99, leads: 100 }, () => 0.3);
    expect(out).toEqual([{ kind: "bounced", afterHours: 0.1, bounceType: "hard" }]);
  });
});

describe("delays", () => {
  const sample = (d: Parameters<typeof sampleDelay>[0], n = 100_000) => {
    const rng = seededRng(5);
    return Array.from({ length: n }, () => sampleDelay(d, rng)).sort((a, b) => a - b);
  };

  it("fixed is exact, missing is at once", () => {
    expect(sampleDelay({ dist: "fixed", hours: 3 }, Math.random)).toBe(3);
    expect(sampleDelay(undefined, Math.random)).toBe(0);
  });

  it("lognormal has the median and p90 it is given", () => {
    const xs = sample({ dist: "lognormal", medianHours: 20, p90Hours: 96 });
    expect(xs[50_000]! / 20).toBeCloseTo(1, 1);
    expect(xs[90_000]! / 96).toBeCloseTo(1, 1);
  });

  it("exponential has the mean it is given", () => {
    const xs = sample({ dist: "exponential", meanHours: 48 });
    expect(xs.reduce((n, x) => n + x, 0) / xs.length / 48).toBeCloseTo(1, 1);
  });
});
