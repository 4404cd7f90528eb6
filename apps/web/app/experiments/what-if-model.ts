/**
 * The what-if panel's contract with `POST /api/experiments/:segment/whatif`
 * (apps/gateway/src/whatif): candidate settings from the form's text fields (the kinds
 * @pw/ope can evaluate on the decisions the engine *published* — a prior or burn-in
 * change needs the engine's own tables, so the gateway refuses those and the form does
 * not offer them), the candidate in words, and the answer read back defensively (the
 * gateway may be older or newer than this page).
 */

/** The request's `candidate`, in the gateway's object form. */
export type Candidate =
  | { kind: "thompson"; floor?: number; sharpen?: number }
  | { kind: "threshold"; threshold: number; floor?: number; sharpen?: number }
  | { kind: "uniform" }
  | { kind: "fixed"; variant: string };

/** Outcomes the gateway can score (it keeps no reply text, so no "positive reply"). */
export const REWARDS = ["replied", "meeting_booked", "converted"] as const;
export type Reward = (typeof REWARDS)[number];

export type WhatIfRequest = { candidate: Candidate; reward?: Reward; windowDays?: number };

export type CandidateForm = {
  /** "replay": thompson without changes — the logged policy replayed, a sanity check. */
  kind: "replay" | "thompson" | "threshold" | "uniform" | "fixed";
  /** Percent per variant. */
  floor: string;
  sharpen: string;
  /** Percent. */
  threshold: string;
  variant: string;
  /** "": what the segment's experiment optimises. */
  reward: "" | Reward;
  /** "": the engine's attribution window (14 days). */
  windowDays: string;
};

export const EMPTY_FORM: CandidateForm = {
  kind: "thompson",
  // The engine's floor is 1% per variant: 5% is the first question worth asking.
  floor: "5",
  sharpen: "",
  threshold: "10",
  variant: "",
  reward: "",
  windowDays: "",
};

type Parsed = { ok: true; request: WhatIfRequest } | { ok: false; problem: string };

function num(text: string): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const x = Number(t);
  return Number.isFinite(x) ? x : Number.NaN;
}

type Knobs = { floor?: number; sharpen?: number };

function knobs(f: CandidateForm): { ok: true; k: Knobs } | { ok: false; problem: string } {
  const k: Knobs = {};
  const floor = num(f.floor);
  if (floor !== undefined) {
    if (!(floor >= 0 && floor <= 50))
      return { ok: false, problem: "The exploration floor is a percentage from 0 to 50." };
    k.floor = floor / 100;
  }
  const sharpen = num(f.sharpen);
  if (sharpen !== undefined) {
    if (!(sharpen > 0 && sharpen <= 20))
      return { ok: false, problem: "Greediness is above 0 and at most 20 (1 is plain Thompson)." };
    k.sharpen = sharpen;
  }
  return { ok: true, k };
}

function candidateOf(
  f: CandidateForm,
): { ok: true; c: Candidate } | { ok: false; problem: string } {
  switch (f.kind) {
    case "replay":
      return { ok: true, c: { kind: "thompson" } };
    case "uniform":
      return { ok: true, c: { kind: "uniform" } };
    case "fixed":
      return f.variant
        ? { ok: true, c: { kind: "fixed", variant: f.variant } }
        : { ok: false, problem: "Choose the variant to always send." };
    case "thompson": {
      const r = knobs(f);
      if (!r.ok) return r;
      if (Object.keys(r.k).length === 0)
        return {
          ok: false,
          problem:
            "Change at least one setting, or choose “Replay the current policy” to check the baseline.",
        };
      return { ok: true, c: { kind: "thompson", ...r.k } };
    }
    case "threshold": {
      const r = knobs(f);
      if (!r.ok) return r;
      const t = num(f.threshold);
      if (t === undefined || !(t > 0 && t < 100))
        return { ok: false, problem: "The P(best) threshold is a percentage between 0 and 100." };
      return { ok: true, c: { kind: "threshold", threshold: t / 100, ...r.k } };
    }
  }
}

export function requestFromForm(f: CandidateForm): Parsed {
  const c = candidateOf(f);
  if (!c.ok) return c;
  const request: WhatIfRequest = { candidate: c.c };
  if (f.reward) request.reward = f.reward;
  const days = num(f.windowDays);
  if (days !== undefined) {
    if (!(days >= 0.01 && days <= 90))
      return { ok: false, problem: "The attribution window is from 0.01 to 90 days." };
    request.windowDays = days;
  }
  return { ok: true, request };
}

/** The candidate in words, for headings and the result's row label. */
export function describeCandidate(c: Candidate): string {
  const parts = (k: Knobs) =>
    [
      k.floor !== undefined ? `floor ${trim(k.floor * 100)}% per variant` : undefined,
      k.sharpen !== undefined ? `greediness ${k.sharpen}` : undefined,
    ].filter((s): s is string => s !== undefined);
  switch (c.kind) {
    case "thompson": {
      const p = parts(c);
      return p.length ? `Thompson with ${p.join(", ")}` : "the current policy, replayed";
    }
    case "threshold": {
      const p = parts(c);
      return `drop variants under ${trim(c.threshold * 100)}% P(best)${p.length ? `, ${p.join(", ")}` : ""}`;
    }
    case "uniform":
      return "an even split";
    case "fixed":
      return `always ${c.variant}`;
  }
}

function trim(x: number): string {
  return String(Math.round(x * 100) / 100);
}

export type Interval = [number, number];

/** What the page shows of the gateway's answer. */
export type WhatIfResult = {
  /** False: too few settled decisions — `sentence` says how many and why. */
  enough: boolean;
  /** The candidate as `pnpm ope` spells it. */
  spec: string;
  reward: string;
  windowDays: number | null;
  estimator: string;
  estimate: number | null;
  interval: Interval | null;
  ips: { estimate: number; interval: Interval | null } | null;
  effectiveSampleSize: number | null;
  /** Settled decisions the estimate is computed on. */
  n: number;
  decisions: { logged: number; open: number; withdrawn: number; notEvaluable: number } | null;
  baseline: { rate: number | null; interval: Interval | null };
  sentence: string;
  warnings: string[];
};

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const numOr = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;
const pair = (v: unknown): Interval | null =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number"
    ? [v[0], v[1]]
    : null;

/** The gateway's answer, or undefined when it is not one this page can read. */
export function readResult(raw: unknown): WhatIfResult | undefined {
  if (!isObj(raw)) return undefined;
  const n = numOr(raw.n);
  if (n === null || typeof raw.sentence !== "string") return undefined;
  const b = isObj(raw.baseline) ? raw.baseline : {};
  const d = isObj(raw.decisions) ? raw.decisions : undefined;
  const ips = isObj(raw.estimators) && isObj(raw.estimators.ips) ? raw.estimators.ips : undefined;
  const ipsEstimate = numOr(ips?.estimate);
  return {
    enough: raw.enough !== false,
    spec: typeof raw.candidate === "string" ? raw.candidate : "",
    reward: typeof raw.reward === "string" ? raw.reward : "",
    windowDays: numOr(raw.windowDays),
    estimator: typeof raw.estimator === "string" ? raw.estimator.toUpperCase() : "SNIPS",
    estimate: numOr(raw.estimate),
    interval: pair(raw.interval),
    ips: ipsEstimate === null ? null : { estimate: ipsEstimate, interval: pair(ips?.interval) },
    effectiveSampleSize: numOr(raw.effectiveSampleSize),
    n,
    decisions: d
      ? {
          logged: numOr(d.logged) ?? 0,
          open: numOr(d.open) ?? 0,
          withdrawn: numOr(d.withdrawn) ?? 0,
          notEvaluable: numOr(d.notEvaluable) ?? 0,
        }
      : null,
    baseline: { rate: numOr(b.rate ?? b.average), interval: pair(b.interval ?? b.ci) },
    sentence: raw.sentence,
    warnings: Array.isArray(raw.warnings)
      ? raw.warnings.filter((w): w is string => typeof w === "string")
      : [],
  };
}

/** The reward in words ("meetings booked"). */
export function rewardWords(reward: string): string {
  switch (reward) {
    case "replied":
      return "replies";
    case "meeting_booked":
      return "meetings booked";
    case "converted":
      return "conversions";
    default:
      return reward || "successes";
  }
}
