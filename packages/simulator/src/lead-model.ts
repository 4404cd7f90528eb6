/**
 * Synthetic leads for measuring the scoring service: drawn from a world's per-segment
 * `leads` (segment by share, then job title, company size, industry, intent signals,
 * engagement, consent), each with its hidden probability of converting under the
 * world's `leadModel.truth` (sim-lead-events.ts: the events that describe one).
 */
import type { Rng } from "@pw/bandit";
import {
  asciiSlug,
  COMPANY_PARTS,
  companyName,
  FIRST_NAMES,
  LAST_NAMES,
  PLACES,
  TITLES,
} from "./lead-names.ts";
import { pickSegment } from "./leads.ts";
import { sampleDelay } from "./recipients.ts";
import type { World } from "./world.ts";
import {
  type Age,
  type LeadFacts,
  SENIORITY_LEVELS,
  type SeniorityLevel,
  SIGNAL_KINDS,
  type SignalKind,
  type Truth,
} from "./world-leads.ts";
import type { Delay } from "./world-outcomes.ts";

/** What the lead's CRM record says about it (the `profile` of its events). */
export type SimProfile = {
  email: string;
  firstName: string;
  lastName: string;
  /** Absent for the `unknown` level: the scorer reads no title as unknown. */
  title?: string;
  company: string;
  domain: string;
  industry: string;
  employees: number;
  country: string;
  timezone: string;
  /** Present (false) only for a lead drawn without consent; else unknown. */
  consent?: boolean;
};

export type SimLead = {
  /** The lead id, subject of its events: `lf_` + `recordId`, as ingest names a contact's lead. */
  id: string;
  /** The CRM contact's id: `<prefix>-<index>`. */
  recordId: string;
  /** 0, 1, 2… in the order drawn (the same whatever the seed). */
  index: number;
  segment: string;
  profile: SimProfile;
  seniority: SeniorityLevel;
  /** Intent signals and how many days before the lead's `at` each happened. */
  signals: { kind: SignalKind; ageDays: number }[];
  /** Earlier mail opened / clicked (0 or 1; a clicker opened): outcome events, not lead events. */
  engagement: { opened: number; clicked: number };
  /** The hidden probability that the lead converts (`trueProbability`). */
  trueP: number;
};

/** The facts the truth reads (a SimLead has them all). */
export type LeadFactsOf = Pick<SimLead, "segment" | "seniority" | "profile" | "signals"> & {
  engagement: { opened: number; clicked: number };
};

const PREFIX = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** An item drawn by relative weight (the weights need not sum to 1). */
function pickWeighted<T>(entries: readonly (readonly [T, number])[], rng: Rng): T {
  const total = entries.reduce((n, [, w]) => n + w, 0);
  let x = rng() * total;
  for (const [item, w] of entries) {
    x -= w;
    if (w > 0 && x <= 0) return item;
  }
  return entries.findLast(([, w]) => w > 0)![0];
}

const pick = <T>(items: readonly T[], rng: Rng): T => items[Math.floor(rng() * items.length)]!;

/** Days ago, drawn as the Delay of the same `dist` in hours (one draw for a random one). */
function sampleAge(a: Age, rng: Rng): number {
  if (a.dist === "fixed") return a.days;
  if (a.dist === "exponential")
    return sampleDelay({ dist: "exponential", meanHours: a.meanDays * 24 }, rng) / 24;
  const d: Delay = { dist: "lognormal", medianHours: a.medianDays * 24, p90Hours: a.p90Days * 24 };
  return sampleDelay(d, rng) / 24;
}

/** A whole number of employees: a range by weight, then log-uniform in it (sizes are heavy-tailed). */
function sampleEmployees(ranges: LeadFacts["employees"], rng: Rng): number {
  const r = pickWeighted(
    ranges.map((x) => [x, x.weight] as const),
    rng,
  );
  const n = Math.floor(Math.exp(Math.log(r.min) + rng() * (Math.log(r.max + 1) - Math.log(r.min))));
  return Math.min(r.max, Math.max(r.min, n));
}

/** The facts of one lead of a segment, in a fixed order of draws (deterministic per seed). */
function drawFacts(f: LeadFacts, rng: Rng) {
  const seniority = pickWeighted(
    SENIORITY_LEVELS.map((l) => [l, f.seniority[l] ?? 0] as const),
    rng,
  );
  const title = seniority === "unknown" ? undefined : pick(TITLES[seniority], rng);
  const employees = sampleEmployees(f.employees, rng);
  const industry = pickWeighted(Object.entries(f.industries), rng);
  const signals: SimLead["signals"] = [];
  for (const kind of SIGNAL_KINDS) {
    const s = f.signals[kind];
    if (!s || rng() >= s.probability) continue;
    const n = 1 + Math.floor(rng() * (s.count ?? 1));
    for (let i = 0; i < n; i++) signals.push({ kind, ageDays: sampleAge(s.ageDays, rng) });
  }
  const u = rng();
  const engagement = {
    opened: u < (f.engagement?.opened ?? 0) ? 1 : 0,
    clicked: u < (f.engagement?.clicked ?? 0) ? 1 : 0,
  };
  const consentFalse = f.consentFalse !== undefined && rng() < f.consentFalse;
  return { seniority, title, employees, industry, signals, engagement, consentFalse };
}

/**
 * Draws a world's leads, one `next()` at a time: the segment by share, then its facts.
 * The same `rng` seed draws the same leads; `prefix` (lower-case letters, digits and
 * inner hyphens; default "sim") keeps the ids, emails and domains of two runs apart.
 */
export function leadGenerator(world: World, rng: Rng, opts: { prefix?: string } = {}) {
  const prefix = opts.prefix ?? "sim";
  if (!PREFIX.test(prefix) || prefix.length > 24)
    throw new Error(`prefix '${prefix}': 1–24 lower-case letters and digits, inner hyphens`);
  if (!world.leadModel || world.segments.some((s) => !s.leads))
    throw new Error(`world '${world.name}' has no lead model (\`leads\` and \`leadModel\`)`);
  const facts = new Map(world.segments.map((s) => [s.name, s.leads!]));
  let index = 0;
  return {
    next(): SimLead {
      const i = index++;
      const segment = pickSegment(world, rng);
      const d = drawFacts(facts.get(segment)!, rng);
      const firstName = pick(FIRST_NAMES, rng);
      const lastName = pick(LAST_NAMES, rng);
      const company = companyName(
        Math.floor(rng() * COMPANY_PARTS[0]),
        Math.floor(rng() * COMPANY_PARTS[1]),
      );
      const [country, timezone] = pick(PLACES, rng);
      const recordId = `${prefix}-${i}`;
      const domain = `${asciiSlug(company)}-${recordId}.example`;
      const profile: SimProfile = {
        email: `${asciiSlug(firstName)}.${asciiSlug(lastName)}@${domain}`,
        firstName,
        lastName,
        ...(d.title ? { title: d.title } : {}),
        company,
        domain,
        industry: d.industry,
        employees: d.employees,
        country,
        timezone,
        ...(d.consentFalse ? { consent: false } : {}),
      };
      const lead = {
        id: `lf_${recordId}`,
        recordId,
        index: i,
        segment,
        profile,
        seniority: d.seniority,
        signals: d.signals,
        engagement: d.engagement,
      };
      return { ...lead, trueP: trueProbability(world, lead) };
    },
  };
}

/** The truth's log-odds that a lead converts: bias plus the logit of each fact. */
export function truthLogit(truth: Truth, lead: LeadFactsOf): number {
  const { profile } = lead;
  const industries = truth.industries ?? {};
  const size = truth.employees?.find(
    (r) => profile.employees >= r.min && profile.employees <= r.max,
  );
  let signals = 0;
  for (const s of lead.signals)
    signals +=
      (truth.signals?.[s.kind] ?? 0) * 0.5 ** (s.ageDays / (truth.signalHalfLifeDays ?? 1));
  return (
    truth.bias +
    (truth.seniority?.[lead.seniority] ?? 0) +
    (size?.logit ?? 0) +
    (Object.hasOwn(industries, profile.industry)
      ? industries[profile.industry]!
      : (industries["*"] ?? 0)) +
    Math.min(signals, truth.signalCap ?? Number.POSITIVE_INFINITY) +
    lead.engagement.opened * (truth.engagement?.opened ?? 0) +
    lead.engagement.clicked * (truth.engagement?.clicked ?? 0) +
    (profile.consent === false ? (truth.consentFalse ?? 0) : 0) +
    (truth.segments?.[lead.segment] ?? 0)
  );
}

/** The hidden probability that a lead converts: the logistic of the world's truth. */
export function trueProbability(world: World, lead: LeadFactsOf): number {
  if (!world.leadModel) throw new Error(`world '${world.name}' has no \`leadModel\``);
  return 1 / (1 + Math.exp(-truthLogit(world.leadModel.truth, lead)));
}
