/**
 * Guardrails as sequential tests (ADR 0014): after every bounce, opt-out or objection, a
 * variant's rates are tested against their limits with a one-sided Wilson lower bound —
 * the rate the evidence says the variant is at least at, at the configured confidence. A
 * pause needs that bound over the limit (and a minimum number of events), so it is sure
 * the rate really is over the limit however few the sends, and a clearly harmful variant
 * stops after tens of sends instead of hundreds. Pure, and here rather than in the engine
 * so the simulator (@pw/simulator) pauses variants with exactly the engine's rule.
 */

/** The limits and the test's strictness; the engine's config parses them from its env. */
export type GuardrailLimits = {
  /** Hard bounces per send. */
  bounceRate: number;
  /** Opt-outs (the unsubscribe link or an opt-out reply) per send. */
  unsubscribeRate: number;
  /** Objection replies per send. */
  negativeReplyRate: number;
  /** Confidence of the one-sided lower bound. */
  confidence: number;
  /** Never pause on fewer events than this, however few the sends. */
  minEvents: number;
};

/**
 * The shipped limits (ADR 0014 measures them): hard bounce 5%, opt-out 2%, negative
 * reply 8%, tested at 80% confidence on at least 4 events. The engine's config defaults
 * and the simulator both take them from here.
 */
export const DEFAULT_GUARDRAILS: Readonly<GuardrailLimits> = Object.freeze({
  bounceRate: 0.05,
  unsubscribeRate: 0.02,
  negativeReplyRate: 0.08,
  confidence: 0.8,
  minEvents: 4,
});

/** Guardrail counts: sends, and the bounces, opt-outs and objections among them. */
export type GuardrailCounts = {
  exposures: number;
  bounces: number;
  unsubscribes: number;
  negativeReplies: number;
};

/**
 * A variant's guardrail evidence in one segment (the arm's counters), and optionally the
 * same over its last sends (`recentGuardrails`): a list that goes bad late in a campaign
 * is caught by its recent sends, where a long healthy history would hide it.
 */
export type GuardrailEvidence = GuardrailCounts & { recent?: GuardrailCounts };

/** Sends the recent window spans: every send first multiplies its counts by 1 - 1/500. */
export const GUARDRAIL_WINDOW_SENDS = 500;

/**
 * The recent window after `sends` more sends (its events arrive later, each adding 1):
 * every count decays by `g^sends`, and the sends gain their weight, (1 - g^sends) / (1 - g).
 * The engine applies the same step in SQL (`recentGuardrailStep`).
 */
export function recentGuardrailStep(sends: number, window = GUARDRAIL_WINDOW_SENDS) {
  const g = 1 - 1 / window;
  const keep = g ** sends;
  return { keep, added: (1 - keep) / (1 - g) };
}

export function recentGuardrailsAfterSends(
  recent: GuardrailCounts | undefined,
  sends: number,
): GuardrailCounts {
  const { keep, added } = recentGuardrailStep(sends);
  const r = recent ?? { exposures: 0, bounces: 0, unsubscribes: 0, negativeReplies: 0 };
  return {
    exposures: r.exposures * keep + added,
    bounces: r.bounces * keep,
    unsubscribes: r.unsubscribes * keep,
    negativeReplies: r.negativeReplies * keep,
  };
}

export type GuardrailMetric = "bounce" | "unsubscribe" | "negative_reply";

/** A guardrail the evidence breaks, with the figures its reason quotes. */
export type GuardrailBreach = {
  metric: GuardrailMetric;
  /** Bounces, opt-outs or negative replies. */
  events: number;
  sends: number;
  /** The observed rate, events / sends. */
  rate: number;
  /** The one-sided Wilson lower bound at `confidence`: over `limit`. */
  lower: number;
  limit: number;
  confidence: number;
  /** Broken over the recent window (`events` and `sends` weighted), not the whole history. */
  recent?: boolean;
};

/**
 * The standard normal quantile (Acklam's rational approximation, relative error under
 * 1.2e-9): the z of a one-sided bound at confidence `p`.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ] as const;
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
    -13.28068155288572,
  ] as const;
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
    4.374664141464968, 2.938163982698783,
  ] as const;
  const d = [
    0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416,
  ] as const;
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * The one-sided Wilson score lower bound of a rate after `events` in `sends`: the rate
 * the evidence says is at least the true one's, at `confidence` (0 before any send). Unlike the
 * normal approximation it stays inside [0, 1] and is honest at small counts — one
 * bounce in ten sends is "at least 3.0% (90% sure)", not "10%".
 */
export function wilsonLowerBound(events: number, sends: number, confidence: number): number {
  if (sends <= 0) return 0;
  const n = sends;
  const p = Math.min(events, n) / n;
  const z = normalQuantile(confidence);
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.max(0, (centre - spread) / (1 + z2 / n));
}

const METRICS = [
  { metric: "bounce", count: "bounces", limit: "bounceRate" },
  { metric: "unsubscribe", count: "unsubscribes", limit: "unsubscribeRate" },
  { metric: "negative_reply", count: "negativeReplies", limit: "negativeReplyRate" },
] as const;

/**
 * The first guardrail the evidence breaks — hard bounces, then opt-outs, then negative
 * replies — or undefined: a breach needs at least `minEvents` events and the Wilson lower
 * bound at `confidence` over the limit, over the whole history or else over the recent
 * window.
 */
export function guardrailBreach(
  arm: GuardrailEvidence,
  guard: GuardrailLimits,
): GuardrailBreach | undefined {
  const whole = countsBreach(arm, guard);
  // Until the arm has more sends than the window holds, its history is its recent sends.
  if (whole || !arm.recent || arm.exposures <= GUARDRAIL_WINDOW_SENDS) return whole;
  const recent = countsBreach(arm.recent, guard);
  return recent ? { ...recent, recent: true } : undefined;
}

function countsBreach(arm: GuardrailCounts, guard: GuardrailLimits): GuardrailBreach | undefined {
  // Sends withdrawn after their outcome arrived cannot leave fewer sends than events.
  const sends = Math.max(arm.exposures, 0);
  for (const m of METRICS) {
    const events = arm[m.count];
    const limit = guard[m.limit];
    if (events < guard.minEvents || sends === 0) continue;
    const n = Math.max(sends, events);
    const lower = wilsonLowerBound(events, n, guard.confidence);
    if (lower > limit)
      return {
        metric: m.metric,
        events,
        sends: n,
        rate: events / n,
        lower,
        limit,
        confidence: guard.confidence,
      };
  }
  return undefined;
}

/** "6.1%", "5%", "90%": one decimal, none when it is zero. */
const percent = (x: number) => `${(Math.round(x * 1000) / 10).toString()}%`;

/**
 * "at least 8.03%": the lower bound rounded down — the sentence never claims more than the
 * evidence — with the decimals it takes to show it over the limit it broke (not "at least
 * 8%" over an 8% limit); "just over 5%" when even three would not.
 */
function boundOver(lower: number, limit: number): string {
  for (let decimals = 1; decimals <= 3; decimals++) {
    const scale = 10 ** (decimals + 2);
    const shown = Math.floor(lower * scale) / scale;
    if (shown > limit) return `at least ${Number((shown * 100).toFixed(decimals)).toString()}%`;
  }
  return `just over ${percent(limit)}`;
}

const WORDS: Record<GuardrailMetric, { rate: string; one: string; many: string }> = {
  bounce: { rate: "hard-bounce rate", one: "bounce", many: "bounces" },
  unsubscribe: { rate: "opt-out rate", one: "opt-out", many: "opt-outs" },
  negative_reply: { rate: "negative-reply rate", one: "negative reply", many: "negative replies" },
};

/**
 * The pause's reason in the operator's words, with its numbers: "Paused 'case_study' in
 * emea: hard-bounce rate at least 6.1% (90% sure) over the 5% limit, 7 bounces in 41 sends".
 */
export function guardrailReason(
  arm: { segment: string; variantId: string },
  b: GuardrailBreach,
): string {
  const w = WORDS[b.metric];
  const events = Math.round(b.events);
  const sends = Math.round(b.sends);
  const counted = b.recent
    ? `about ${events} ${events === 1 ? w.one : w.many} in its last ${sends} sends (weighted to the latest)`
    : `${events} ${events === 1 ? w.one : w.many} in ${sends} send${sends === 1 ? "" : "s"}`;
  return `Paused '${arm.variantId}' in ${arm.segment}: ${w.rate} ${boundOver(b.lower, b.limit)} (${percent(b.confidence)} sure) over the ${percent(b.limit)} limit, ${counted}`;
}
