/**
 * World files v2: what recipients do besides booking meetings — bounces, opens, clicks,
 * replies and their intent, opt-outs, deals — and after how long, per segment and
 * variant. Every rate is per send (a share of all sends), except the intent mix (shares
 * of replies) and `dealsPerMeeting` (a share of meetings), so a file's numbers mean one
 * thing; how they compose into one send is `recipients.ts` (and the README).
 */
import { z } from "zod";

/** The engine's reply intents (apps/experiments/src/intent.ts), in the same words. */
export const REPLY_INTENTS = [
  "positive",
  "neutral",
  "objection",
  "out_of_office",
  "unsubscribe_request",
] as const;
export type ReplyIntent = (typeof REPLY_INTENTS)[number];

/** The outcomes that take time, each timed from its cause (see `DELAY_FROM`). */
export const DELAY_KINDS = [
  "delivery",
  "open",
  "click",
  "reply",
  "meeting",
  "deal",
  "unsubscribe",
] as const;
export type DelayKind = (typeof DELAY_KINDS)[number];

export const Rate = z
  .number()
  .min(0, "a rate is a probability: at least 0")
  .max(1, "a rate is a probability: at most 1");

/** A number of hours; a missing one is named as such (a delay's parameter). */
const hours = () =>
  z.number({
    error: (i) =>
      i.input === undefined ? "missing: a number of hours" : "must be a number of hours",
  });

const perSend = (what: string) => Rate.optional().meta({ description: `${what}; missing: 0.` });

export const Delay = z
  .discriminatedUnion(
    "dist",
    [
      z.object({ dist: z.literal("fixed"), hours: hours().min(0) }).strict(),
      z.object({ dist: z.literal("exponential"), meanHours: hours().positive() }).strict(),
      z
        .object({
          dist: z.literal("lognormal"),
          medianHours: hours().positive(),
          p90Hours: hours().positive(),
        })
        .strict()
        .refine((d) => d.p90Hours > d.medianHours, {
          path: ["p90Hours"],
          message: "must be above medianHours",
        }),
    ],
    {
      error: () =>
        'dist must be "fixed" {hours}, "exponential" {meanHours} or "lognormal" {medianHours, p90Hours}',
    },
  )
  .meta({ id: "Delay", description: "How long an outcome takes after its cause, in hours." });
export type Delay = z.infer<typeof Delay>;

/** The keys a delay of each `dist` takes (to name them after an unknown one). */
export const DELAY_KEYS: Record<string, string[]> = {
  fixed: ["dist", "hours"],
  exponential: ["dist", "meanHours"],
  lognormal: ["dist", "medianHours", "p90Hours"],
};

export const Intents = z
  .object(Object.fromEntries(REPLY_INTENTS.map((i) => [i, Rate.optional()])))
  .strict()
  .refine(
    (mix) => Math.abs(Object.values(mix).reduce((n: number, x) => n + (x ?? 0), 0) - 1) <= 1e-6,
    {
      message: "an intent mix is shares of the replies: they must sum to 1",
    },
  )
  .meta({ description: "Shares of the replies per intent (missing: 0); they sum to 1." });

export const Delays = z
  .object(Object.fromEntries(DELAY_KINDS.map((k) => [k, Delay.optional()])))
  .strict()
  .meta({ description: "Per outcome, its delay after its cause; missing: at once." });

export const Behaviour = z
  .object({
    hardBounce: perSend("Hard bounces, a share of all sends; a bounced send has nothing else"),
    softBounce: perSend(
      "Soft bounces, a share of all sends: not delivered, not guardrail evidence",
    ),
    open: perSend("Opens, a share of all sends (at most the delivered ones)"),
    click: perSend("Clicks, a share of all sends (at most the opens)"),
    reply: perSend("Replies, a share of all sends, split by `intents`"),
    intents: Intents.optional(),
    unsubscribe: perSend("Opt-outs by the unsubscribe link (no reply), a share of all sends"),
    dealsPerMeeting: Rate.optional().meta({
      description: "Share of meetings that become a deal (the `converted` outcome).",
    }),
    delays: Delays.optional(),
  })
  .strict();
export type Behaviour = z.infer<typeof Behaviour>;

export const Outcomes = z.record(z.string(), Behaviour).meta({
  description: 'Per variant, and "*" for every variant of the segment (a variant\'s own keys win).',
});

/** One send's recipient, resolved: every rate (per send unless said), every delay. */
export type Recipient = {
  /** Meetings booked (the reward), from the world's `rates`. */
  meeting: number;
  hardBounce: number;
  softBounce: number;
  open: number;
  click: number;
  reply: number;
  /** Shares of replies; all 0 when nothing replies. */
  intents: Record<ReplyIntent, number>;
  unsubscribe: number;
  dealsPerMeeting: number;
  delays: Partial<Record<DelayKind, Delay>>;
};

const NO_INTENTS = Object.fromEntries(REPLY_INTENTS.map((i) => [i, 0])) as Record<
  ReplyIntent,
  number
>;

/** Layers of behaviour, later ones winning key by key (`delays` kind by kind, `intents` whole). */
export function resolveRecipient(meeting: number, layers: (Behaviour | undefined)[]): Recipient {
  const r: Recipient = {
    meeting,
    hardBounce: 0,
    softBounce: 0,
    open: 0,
    click: 0,
    reply: 0,
    intents: NO_INTENTS,
    unsubscribe: 0,
    dealsPerMeeting: 0,
    delays: {},
  };
  for (const layer of layers) {
    if (!layer) continue;
    const { intents, delays, ...rates } = layer;
    for (const [k, v] of Object.entries(rates))
      if (v !== undefined) (r as Record<string, unknown>)[k] = v;
    if (intents) r.intents = { ...NO_INTENTS, ...intents };
    if (delays) r.delays = { ...r.delays, ...delays };
  }
  return r;
}

/** Sends that reach the inbox. */
export const deliveredShare = (r: Recipient) => 1 - r.hardBounce - r.softBounce;

/**
 * The share of sends the exclusive responses take: bounces, meetings (a meeting after a
 * positive reply is one send), the other replies and link opt-outs. At most 1.
 */
export function responseShare(r: Recipient): number {
  const positive = r.reply * r.intents.positive;
  return (
    r.hardBounce + r.softBounce + Math.max(r.meeting, positive) + r.reply - positive + r.unsubscribe
  );
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Why a resolved recipient cannot be simulated (empty: it can). */
export function recipientProblems(r: Recipient): string[] {
  const out: string[] = [];
  const eps = 1e-9;
  const { intents, delays: _, ...rates } = r;
  // A rate out of [0, 1] is refused where it is written; its sums would only repeat that.
  if ([...Object.values(rates), ...Object.values(intents)].some((x) => !(x >= 0 && x <= 1)))
    return out;
  const d = deliveredShare(r);
  if (d < -eps) out.push(`bounces add up to ${round(1 - d)} of sends (at most 1)`);
  if (r.open > d + eps)
    out.push(`opens (${r.open}) exceed the delivered sends (${round(d)}: 1 − bounces)`);
  if (r.click > r.open + eps)
    out.push(`clicks (${r.click}) exceed the opens (${r.open}): a click is of an opened mail`);
  if (r.reply > 0 && Object.values(r.intents).every((x) => x === 0))
    out.push(`replies (${r.reply}) need an intent mix ("intents")`);
  const share = responseShare(r);
  if (share > 1 + eps)
    out.push(
      `bounces, meetings (${r.meeting}), replies and unsubscribes take ${round(share)} of sends (at most 1; a meeting after a positive reply counts once)`,
    );
  return out;
}
