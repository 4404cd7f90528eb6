// World files v2: what recipients do besides booking meetings, read as strictly as v1 —
// each problem refused with its JSON path, and a file's numbers composing into one send.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { World, worldProblems } from "./world.ts";

const v2 = {
  name: "v2",
  variants: ["a", "b"],
  segments: [
    {
      name: "smb",
      share: 1,
      rates: { a: 0.02, b: 0.04 },
      outcomes: {
        "*": {
          hardBounce: 0.01,
          softBounce: 0.02,
          open: 0.4,
          click: 0.05,
          reply: 0.06,
          intents: { positive: 0.5, objection: 0.3, out_of_office: 0.2 },
          unsubscribe: 0.005,
          dealsPerMeeting: 0.25,
          delays: {
            reply: { dist: "lognormal", medianHours: 20, p90Hours: 96 },
            meeting: { dist: "exponential", meanHours: 48 },
            delivery: { dist: "fixed", hours: 0.1 },
          },
        },
        b: { hardBounce: 0.08 },
      },
    },
  ],
  drift: { atFraction: 0.5, outcomes: { smb: { "*": { open: 0.2 } } } },
};

type Json = Record<string, unknown>;
/** v2 with `edit` applied to a deep copy. */
const variant = (edit: (w: typeof v2 & Json) => void) => {
  const w = structuredClone(v2) as typeof v2 & Json;
  edit(w);
  return w;
};
const problems = (world: unknown) => {
  const parsed = World.safeParse(world);
  return parsed.success ? [] : worldProblems(parsed.error, world);
};
const star = (w: typeof v2) =>
  w.segments[0]!.outcomes["*"] as Json & { intents?: Json; delays: Json };

describe("world files v2", () => {
  it("reads a v2 world: per-variant behaviour, delays, a drift of outcomes only", () => {
    expect(problems(v2)).toEqual([]);
  });

  it("reads the shipped v2 worlds", async () => {
    for (const f of ["bouncer.json", "all-bounce.json", "realistic.json"]) {
      const text = await readFile(join(import.meta.dirname, "../../../data/worlds", f), "utf8");
      expect(problems(JSON.parse(text)), f).toEqual([]);
    }
  });

  it.each<[string, unknown, string | string[]]>([
    [
      "an intent mix that does not sum to 1",
      variant((w) => {
        star(w).intents = { positive: 0.5, objection: 0.3 };
      }),
      'segments[0].outcomes["*"].intents: an intent mix is shares of the replies: they must sum to 1',
    ],
    [
      "an unknown intent",
      variant((w) => {
        star(w).intents = { positive: 0.5, objection: 0.3, unsubscribe: 0.2 };
      }),
      [
        'segments[0].outcomes["*"].intents.unsubscribe: unknown key (allowed: positive, neutral, objection, out_of_office, unsubscribe_request)',
        'segments[0].outcomes["*"].intents: an intent mix is shares of the replies: they must sum to 1',
      ],
    ],
    [
      "a rate over 1",
      variant((w) => {
        star(w).open = 1.4;
      }),
      'segments[0].outcomes["*"].open: a rate is a probability: at most 1',
    ],
    [
      "an unknown key in a behaviour",
      variant((w) => {
        star(w).bounce = 0.1;
      }),
      'segments[0].outcomes["*"].bounce: unknown key (allowed: hardBounce, softBounce, open, click, reply, intents, unsubscribe, dealsPerMeeting, delays)',
    ],
    [
      "an undeclared variant",
      variant((w) => {
        (w.segments[0]!.outcomes as Json).roi = { reply: 0.1 };
      }),
      `segments[0].outcomes.roi: variant 'roi' is not declared (segment 'smb'; "*" is every variant; variants: a, b)`,
    ],
    [
      "a drift naming an undeclared segment",
      variant((w) => {
        w.drift.outcomes = { ent: { "*": { open: 0.1 } } } as never;
      }),
      "drift.outcomes.ent: segment 'ent' is not declared (segments: smb)",
    ],
    [
      "a delay parameter of another distribution",
      variant((w) => {
        star(w).delays.meeting = { dist: "exponential", medianHours: 3 };
      }),
      [
        'segments[0].outcomes["*"].delays.meeting.meanHours: missing: a number of hours',
        'segments[0].outcomes["*"].delays.meeting.medianHours: unknown key (allowed: dist, meanHours)',
      ],
    ],
    [
      "a lognormal whose p90 is not above its median",
      variant((w) => {
        star(w).delays.reply = { dist: "lognormal", medianHours: 20, p90Hours: 10 };
      }),
      'segments[0].outcomes["*"].delays.reply.p90Hours: must be above medianHours',
    ],
    [
      "an unknown distribution",
      variant((w) => {
        star(w).delays.reply = { dist: "weibull", hours: 1 };
      }),
      'segments[0].outcomes["*"].delays.reply.dist: dist must be "fixed" {hours}, "exponential" {meanHours} or "lognormal" {medianHours, p90Hours}',
    ],
    [
      "an unknown outcome delay",
      variant((w) => {
        star(w).delays.bounce = { dist: "fixed", hours: 1 };
      }),
      'segments[0].outcomes["*"].delays.bounce: unknown key (allowed: delivery, open, click, reply, meeting, deal, unsubscribe)',
    ],
    [
      "replies without an intent mix",
      variant((w) => {
        delete star(w).intents;
      }),
      `segments[0].outcomes: variants 'a', 'b': replies (0.06) need an intent mix ("intents")`,
    ],
    [
      "more opens than delivered sends",
      variant((w) => {
        (w.segments[0]!.outcomes as Json).b = { hardBounce: 0.5, softBounce: 0.2 };
      }),
      "segments[0].outcomes: variant 'b': opens (0.4) exceed the delivered sends (0.3: 1 − bounces)",
    ],
    [
      "more clicks than opens, after the drift",
      variant((w) => {
        w.drift.outcomes.smb["*"] = { open: 0.02 };
      }),
      `drift.outcomes.smb: variants 'a', 'b' after the drift: clicks (0.05) exceed the opens (0.02): a click is of an opened mail`,
    ],
    [
      "responses that take more than every send",
      variant((w) => {
        w.segments[0]!.rates.b = 0.95;
      }),
      "segments[0].outcomes: variant 'b': bounces, meetings (0.95), replies and unsubscribes take 1.085 of sends (at most 1; a meeting after a positive reply counts once)",
    ],
    [
      "a drift that changes nothing",
      variant((w) => {
        w.drift = { atFraction: 0.5 } as never;
      }),
      "drift: a drift changes `rates`, `outcomes` or both: give at least one",
    ],
  ])("refuses %s with its JSON path", (_, world, message) => {
    expect(problems(world)).toEqual(Array.isArray(message) ? message : [message]);
  });
});
