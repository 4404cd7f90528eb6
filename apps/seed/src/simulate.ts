/**
 * `--simulate N --rate R`: N new leads, drawn on the fly by @pw/simulator's lead generator
 * (job title by seniority as the scorer reads it, company size, industry, country and time
 * zone, intent signals with their ages), posted as the webhooks Lightfield and the site
 * would send — contact and account created now, each signal as long ago as drawn — at R
 * leads per second. One seed draws the same leads with the same ids, so a repeated run is
 * acknowledged as duplicates; without a seed each run draws new leads.
 */
import { randomInt } from "node:crypto";
import { seededRng } from "@pw/bandit";
import { leadGenerator, type SignalKind, type SimLead, World } from "@pw/simulator";
import {
  accountRecord,
  contactRecord,
  headcountBandOf,
  industryOption,
  leadIdOf,
  lightfieldRoute,
  SIGNALS_ROUTE,
  triggerBody,
} from "./records.ts";
import { DEFAULT_DEADLINE_MS, type Outgoing, runGroups, type Source } from "./run.ts";
import { DEFAULT_CONCURRENCY } from "./seed-files.ts";
import type { Progress, Summary } from "./summary.ts";

const signals = (p: Record<SignalKind, [number, number]>) =>
  Object.fromEntries(
    Object.entries(p).map(([kind, [probability, meanDays]]) => [
      kind,
      { probability, ageDays: { dist: "exponential", meanDays } },
    ]),
  );

/**
 * Who simulated leads are: three company sizes (the scorer's bands), titles at every
 * seniority, ICP and other industries, and intent strong enough that most leads have some.
 * A world file's lead model (`--world`) can replace it; the variants and rates here are
 * unused (the engine's own playbook decides), the schema just requires them.
 */
export const LEAD_MIX: World = World.parse({
  name: "pnpm seed --simulate: the default lead mix",
  variants: ["a", "b"],
  segments: [
    {
      name: "smb",
      share: 4,
      rates: { a: 0.02, b: 0.02 },
      leads: {
        seniority: { c_level: 3, vp: 1, director: 1, manager: 2, individual: 3, unknown: 1 },
        employees: [{ min: 5, max: 199, weight: 1 }],
        industries: { software: 3, saas: 2, "e-commerce": 2, retail: 1, education: 1 },
        signals: signals({
          page_viewed: [0.8, 5],
          pricing_viewed: [0.35, 3],
          form_submitted: [0.2, 4],
          trial_started: [0.15, 2],
          demo_requested: [0.12, 1],
        }),
      },
    },
    {
      name: "mid-market",
      share: 3,
      rates: { a: 0.02, b: 0.02 },
      leads: {
        seniority: { c_level: 1, vp: 2, director: 3, manager: 3, individual: 3, unknown: 1 },
        employees: [{ min: 200, max: 1_999, weight: 1 }],
        industries: {
          software: 2,
          fintech: 2,
          "financial services": 1,
          healthcare: 2,
          manufacturing: 2,
        },
        signals: signals({
          page_viewed: [0.8, 7],
          pricing_viewed: [0.4, 4],
          form_submitted: [0.25, 6],
          trial_started: [0.1, 3],
          demo_requested: [0.15, 2],
        }),
      },
    },
    {
      name: "enterprise",
      share: 2,
      rates: { a: 0.02, b: 0.02 },
      leads: {
        seniority: { c_level: 1, vp: 3, director: 3, manager: 2, individual: 2, unknown: 1 },
        employees: [{ min: 2_000, max: 50_000, weight: 1 }],
        industries: {
          "information technology": 2,
          "financial services": 2,
          healthcare: 1,
          manufacturing: 2,
          logistics: 1,
        },
        signals: signals({
          page_viewed: [0.85, 10],
          pricing_viewed: [0.3, 6],
          form_submitted: [0.3, 8],
          trial_started: [0.05, 5],
          demo_requested: [0.2, 3],
        }),
      },
    },
  ],
  leadModel: { truth: { bias: -3 } },
});

const SITE = "https://www.pipeline-whisperer.example";
const SIGNAL_URLS: Record<SignalKind, string> = {
  page_viewed: `${SITE}/product`,
  pricing_viewed: `${SITE}/pricing`,
  demo_requested: `${SITE}/demo`,
  trial_started: "https://app.pipeline-whisperer.example/signup",
  form_submitted: `${SITE}/resources/pipeline-benchmark-report`,
};

const DAY_MS = 86_400_000;
/** Ages within a second of now would be a few ms in the future on a coarse clock: a minute at least. */
const MIN_SIGNAL_AGE_MS = 60_000;

/** One simulated lead as webhooks at `nowMs`: contact, account, then its signals oldest first. */
export function simLeadWebhooks(lead: SimLead, nowMs: number): Outgoing[] {
  const p = lead.profile;
  const contactId = lead.recordId;
  const accountId = `acc_${lead.recordId}`;
  const at = new Date(nowMs).toISOString();
  const times = { createdAt: at, updatedAt: at };
  const address = {
    street: null,
    street2: null,
    city: null,
    state: null,
    postalCode: null,
    country: p.country,
    latitude: null,
    longitude: null,
  };
  const contact = contactRecord(
    {
      id: contactId,
      accountId,
      firstName: p.firstName,
      lastName: p.lastName,
      emails: [p.email],
      ...(p.title ? { title: p.title } : {}),
      timezone: p.timezone,
      address,
      ...(p.consent === false ? { marketingConsent: false } : {}),
    },
    times,
  );
  const band = headcountBandOf(p.employees);
  const account = accountRecord(
    {
      id: accountId,
      name: p.company,
      domain: p.domain,
      headcount: { id: band.id, label: band.label },
      industries: [industryOption(p.industry)],
      address,
      contactIds: [contactId],
    },
    times,
  );
  const where = (what: string) => `lead ${lead.id} ${what}`;
  const out: Outgoing[] = [
    {
      where: where("contact.created"),
      route: lightfieldRoute("contact.created"),
      webhookId: `sim_${contactId}_contact.created`,
      body: JSON.stringify(triggerBody(contact, at)),
    },
    {
      where: where("account.created"),
      route: lightfieldRoute("account.created"),
      webhookId: `sim_${accountId}_account.created`,
      body: JSON.stringify(triggerBody(account, at)),
    },
  ];
  const drawn = lead.signals
    .map((s, n) => ({
      ...s,
      n,
      ageMs: Math.max(MIN_SIGNAL_AGE_MS, Math.round(s.ageDays * DAY_MS)),
    }))
    .sort((a, b) => b.ageMs - a.ageMs);
  for (const s of drawn)
    out.push({
      where: where(`signal ${s.kind}`),
      route: SIGNALS_ROUTE,
      webhookId: `sim_${contactId}_signal_${s.n}`,
      body: JSON.stringify({
        type: s.kind,
        occurredAt: new Date(nowMs - s.ageMs).toISOString(),
        leadId: leadIdOf(contactId),
        url: SIGNAL_URLS[s.kind],
        properties: { source: "pnpm seed --simulate" },
      }),
    });
  return out;
}

export type SimulateOptions = {
  ingestUrl: string;
  secret: string;
  /** How many leads. */
  count: number;
  /** Leads started per second. */
  ratePerSecond: number;
  /** Same seed, same leads (and ids); default: a random one (reported in the summary). */
  seed?: number;
  /** Whose lead model to draw from (default `LEAD_MIX`). */
  world?: World;
  /** Leads posted at once (default 16). */
  concurrency?: number;
  deadlineMs?: number;
  attemptTimeoutMs?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
};

export type SimulateSummary = Summary & {
  seed: number;
  /** The lead id prefix of this seed's leads (`lf_sim-<seed>-<n>`). */
  prefix: string;
  leads: { requested: number; started: number };
};

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

export async function simulateLeads(o: SimulateOptions): Promise<SimulateSummary> {
  if (!Number.isSafeInteger(o.count) || o.count < 1)
    throw new RangeError(`count: ${o.count} is not a whole number ≥ 1`);
  if (!(o.ratePerSecond > 0)) throw new RangeError(`ratePerSecond: ${o.ratePerSecond} is not > 0`);
  const seed = o.seed ?? randomInt(2 ** 32);
  const prefix = `sim-${seed.toString(36)}`;
  const generator = leadGenerator(o.world ?? LEAD_MIX, seededRng(seed), { prefix });
  const startedAt = Date.now();
  let drawn = 0;
  let started = 0;
  /** Drawn but never sent (the run stopped first): counted as not delivered. */
  const unsent: SimLead[] = [];
  const source: Source = {
    async next(stop) {
      if (stop.aborted || drawn >= o.count) return undefined;
      const i = drawn++;
      // Drawn at once, in index order (the seed's sequence); sent at its slot.
      const lead = generator.next();
      await sleep(startedAt + (i * 1000) / o.ratePerSecond - Date.now(), stop);
      if (stop.aborted) {
        unsent.push(lead);
        return undefined;
      }
      started++;
      return simLeadWebhooks(lead, Date.now());
    },
    rest() {
      for (; drawn < o.count; drawn++) unsent.push(generator.next());
      if (unsent.length === 0) return undefined;
      unsent.sort((a, b) => a.index - b.index);
      const more = unsent.length > 1 ? ` and ${unsent.length - 1} more leads` : "";
      return {
        count: unsent.reduce((n, l) => n + 2 + l.signals.length, 0),
        where: `lead ${unsent[0]!.id}${more}`,
      };
    },
  };
  const summary = await runGroups(source, {
    ingestUrl: o.ingestUrl,
    secret: o.secret,
    concurrency: o.concurrency ?? DEFAULT_CONCURRENCY,
    deadlineMs: o.deadlineMs ?? DEFAULT_DEADLINE_MS,
    ...(o.attemptTimeoutMs ? { attemptTimeoutMs: o.attemptTimeoutMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    unit: "leads",
    total: o.count,
  });
  return { ...summary, seed, prefix, leads: { requested: o.count, started } };
}
