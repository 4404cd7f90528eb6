/**
 * What one recipient does with one send, and when: the outcomes the ingest would post
 * (`outreach.outcome.v1` kinds), each with its delay after the send, drawn from a world's
 * rates for a segment × variant at a lead's position (before or after a drift). Used by
 * `pnpm sim`, `pnpm sim:engine` and the demo's recipient simulator; pure but for the rng.
 *
 * How the rates compose (every rate per send, README "How a send plays out"): one
 * uniform draw picks the one exclusive response, in this order — a meeting (the world's
 * `rates`; it follows a positive reply while positive replies last, the rest are booked
 * without one), a positive reply without a meeting, a neutral / objection /
 * out-of-office / opt-out reply, an opt-out by the link, a hard bounce, a soft bounce, or
 * nothing. A bounced send has no other outcome; every other send is delivered. Opens,
 * clicks (of opens) and deals (of meetings) are drawn apart, from `detail`.
 */

import { normalQuantile, type Rng, seededRng } from "@pw/bandit";
import type { OutcomeKind } from "@pw/events";
import { recipientOf, type World } from "./world.ts";
import {
  type Delay,
  type DelayKind,
  deliveredShare,
  type Recipient,
  type ReplyIntent,
} from "./world-outcomes.ts";

/** The `outreach.outcome.v1` kinds a send can produce. */
export type { OutcomeKind };

export type SendOutcome = {
  kind: OutcomeKind;
  /** Hours after the send. */
  afterHours: number;
  /** `replied`: the intent the reply is written with. */
  intent?: ReplyIntent;
  /** `bounced`: hard (the address is bad) or soft (try again later). */
  bounceType?: "hard" | "soft";
};

/** What each delay is timed from (README): a chain, so outcomes come in a sensible order. */
export const DELAY_FROM: Record<DelayKind, string> = {
  delivery: "the send (the mail server's verdict: delivered or bounced)",
  open: "the delivery",
  click: "the open",
  reply: "the delivery",
  meeting: "the positive reply it follows, else the delivery",
  deal: "the meeting",
  unsubscribe: "the delivery",
};

const Z90 = 1.2815515655446004;

/** A delay in hours (0 when the world gives none). One draw for a random one. */
export function sampleDelay(d: Delay | undefined, rng: Rng): number {
  if (!d) return 0;
  if (d.dist === "fixed") return d.hours;
  const u = Math.min(Math.max(rng(), 1e-12), 1 - 1e-12);
  if (d.dist === "exponential") return -d.meanHours * Math.log(1 - u);
  const sigma = Math.log(d.p90Hours / d.medianHours) / Z90;
  return d.medianHours * Math.exp(sigma * normalQuantile(u));
}

/** The recipient of a segment × variant at `lead` of `leads` (the drift applies from its point). */
export function recipientAt(
  world: World,
  segment: string,
  variant: string,
  lead = 0,
  leads = 1,
): Recipient {
  const s = world.segments.find((x) => x.name === segment);
  if (!s) throw new Error(`segment '${segment}' is not in world '${world.name}'`);
  if (!world.variants.includes(variant))
    throw new Error(`variant '${variant}' is not in world '${world.name}'`);
  const drifted = world.drift !== undefined && lead >= world.drift.atFraction * leads;
  return recipientOf(world, s, variant, drifted);
}

/** The recipients of a world, resolved once per segment × variant × side of the drift. */
export function recipientModel(world: World) {
  const cache = new Map<string, Recipient>();
  return (segment: string, variant: string, lead = 0, leads = 1): Recipient => {
    const drifted = world.drift !== undefined && lead >= world.drift.atFraction * leads;
    const key = `${segment}\u0000${variant}\u0000${drifted}`;
    const known = cache.get(key);
    if (known) return known;
    const r = recipientAt(world, segment, variant, lead, leads);
    cache.set(key, r);
    return r;
  };
}

/** True when some outcome of the world takes time (a `delays` anywhere in the file). */
export function worldHasDelays(world: World): boolean {
  const has = (o?: Record<string, { delays?: object }>) =>
    Object.values(o ?? {}).some((b) => b.delays && Object.keys(b.delays).length > 0);
  return (
    world.segments.some((s) => has(s.outcomes)) ||
    Object.values(world.drift?.outcomes ?? {}).some(has)
  );
}

/** A lead's own stream for the details, so a lead's recipient is the same whatever is sent. */
export function detailRng(seed: number, lead: number): Rng {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(lead + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return seededRng((h ^ (h >>> 15)) >>> 0);
}

type Response = "meeting" | ReplyIntent | "unsubscribe" | "hard" | "soft" | "none";

/** The exclusive response `u` (uniform in [0, 1)) falls on, and whether a meeting had a reply. */
function respond(r: Recipient, u: number): { response: Response; replied: boolean } {
  const positive = r.reply * r.intents.positive;
  if (u < r.meeting) return { response: "meeting", replied: u < Math.min(r.meeting, positive) };
  const slices: [Response, number][] = [
    ["positive", Math.max(0, positive - r.meeting)],
    ["neutral", r.reply * r.intents.neutral],
    ["objection", r.reply * r.intents.objection],
    ["out_of_office", r.reply * r.intents.out_of_office],
    ["unsubscribe_request", r.reply * r.intents.unsubscribe_request],
    ["unsubscribe", r.unsubscribe],
    ["hard", r.hardBounce],
    ["soft", r.softBounce],
  ];
  let x = u - r.meeting;
  for (const [response, p] of slices) {
    if (x < p) return { response, replied: false };
    x -= p;
  }
  return { response: "none", replied: false };
}

/**
 * One send: its outcomes in time order. `rng` gives the one draw that decides the
 * response (a world of meeting rates alone draws nothing else); `detail` the rest.
 */
export function drawSend(r: Recipient, rng: Rng, detail: Rng = rng): SendOutcome[] {
  const { response, replied } = respond(r, rng());
  const delay = (k: DelayKind) => sampleDelay(r.delays[k], detail);
  const sent = delay("delivery");
  if (response === "hard" || response === "soft")
    return [{ kind: "bounced", afterHours: sent, bounceType: response }];
  const out: SendOutcome[] = [{ kind: "delivered", afterHours: sent }];
  if (r.open > 0 && detail() < r.open / deliveredShare(r)) {
    const opened = sent + delay("open");
    out.push({ kind: "opened", afterHours: opened });
    if (r.click > 0 && detail() < r.click / r.open)
      out.push({ kind: "clicked", afterHours: opened + delay("click") });
  }
  if (response === "meeting") {
    let at = sent;
    if (replied) {
      at += delay("reply");
      out.push({ kind: "replied", afterHours: at, intent: "positive" });
    }
    at += delay("meeting");
    out.push({ kind: "meeting_booked", afterHours: at });
    if (r.dealsPerMeeting > 0 && detail() < r.dealsPerMeeting)
      out.push({ kind: "converted", afterHours: at + delay("deal") });
  } else if (response === "unsubscribe")
    out.push({ kind: "unsubscribed", afterHours: sent + delay("unsubscribe") });
  else if (response !== "none")
    out.push({ kind: "replied", afterHours: sent + delay("reply"), intent: response });
  return out.sort((a, b) => a.afterHours - b.afterHours);
}

/** One send of a world's segment × variant at `lead` of `leads`: `drawSend` on its recipient. */
export function sendOutcomes(
  world: World,
  segment: string,
  variant: string,
  at: { lead: number; leads: number },
  rng: Rng,
  detail: Rng = rng,
): SendOutcome[] {
  return drawSend(recipientAt(world, segment, variant, at.lead, at.leads), rng, detail);
}
