/**
 * The sample events (data/sample-events/*.ndjson), generated with @faker-js/faker from a
 * seed: the same seed and lead count give the same bytes. ~200 leads, each a Lightfield
 * contact with its account (and for some an opportunity, or a later title change), in the
 * documented record shape, and 1–4 intent signals. The mix spreads leads over the
 * scorer's segments (persona from the job title × company-size band), its tiers (intent
 * from a fresh demo request to one page view weeks ago) and time zones on five continents.
 *
 * Times are written relative to ANCHOR and replayed relative to "now" (`offsetMs`), so the
 * files never go stale and ingest's clock-skew check never refuses them.
 */
import {
  base,
  de,
  en,
  en_AU,
  en_CA,
  en_GB,
  en_IE,
  en_IN,
  en_US,
  en_ZA,
  es,
  es_MX,
  Faker,
  fr,
  type LocaleDefinition,
  nl,
  pt_BR,
  sv,
} from "@faker-js/faker";
import type { SeedLine } from "../src/lines.ts";
import {
  type Address,
  accountRecord,
  contactRecord,
  HEADCOUNT_BANDS,
  type HeadcountBand,
  industryOption,
  leadIdOf,
  lightfieldRoute,
  opportunityRecord,
  optionId,
  type SelectOption,
  SIGNALS_ROUTE,
  triggerBody,
} from "../src/records.ts";

export const DEFAULT_SEED = 17;
export const DEFAULT_LEADS = 200;
/** The instant the written times count from (the files' `occurredAt` = ANCHOR + offsetMs). */
export const ANCHOR = Date.parse("2026-12-01T09:00:00.000Z");

/** Where a lead sits: its address, its zone, and whose names and streets it has. */
export type Place = {
  country: string;
  /** ISO 3166-2 suffix where the country spans zones (ingest guesses the zone from it). */
  state: string | null;
  city: string;
  zone: string;
  locale: LocaleDefinition;
  weight: number;
  /** False where ingest cannot guess the zone from the address: the contact always names it. */
  guessable: boolean;
};

const place = (
  country: string,
  state: string | null,
  city: string,
  zone: string,
  locale: LocaleDefinition,
  weight: number,
  guessable = true,
): Place => ({ country, state, city, zone, locale, weight, guessable });

export const PLACES: Place[] = [
  place("US", "NY", "New York", "America/New_York", en_US, 10),
  place("US", "MA", "Boston", "America/New_York", en_US, 5),
  place("US", "GA", "Atlanta", "America/New_York", en_US, 3),
  place("US", "IL", "Chicago", "America/Chicago", en_US, 5),
  place("US", "TX", "Austin", "America/Chicago", en_US, 5),
  place("US", "CO", "Denver", "America/Denver", en_US, 3),
  place("US", "AZ", "Phoenix", "America/Phoenix", en_US, 2),
  place("US", "CA", "San Francisco", "America/Los_Angeles", en_US, 9),
  place("US", "WA", "Seattle", "America/Los_Angeles", en_US, 4),
  place("CA", "ON", "Toronto", "America/Toronto", en_CA, 4),
  place("CA", "BC", "Vancouver", "America/Vancouver", en_CA, 2),
  place("BR", "SP", "São Paulo", "America/Sao_Paulo", pt_BR, 3),
  place("MX", "CMX", "Mexico City", "America/Mexico_City", es_MX, 2),
  place("GB", null, "London", "Europe/London", en_GB, 8),
  place("IE", null, "Dublin", "Europe/Dublin", en_IE, 2),
  place("DE", null, "Berlin", "Europe/Berlin", de, 6),
  place("FR", null, "Paris", "Europe/Paris", fr, 4),
  place("NL", null, "Amsterdam", "Europe/Amsterdam", nl, 3),
  place("ES", null, "Madrid", "Europe/Madrid", es, 2, false),
  place("SE", null, "Stockholm", "Europe/Stockholm", sv, 2),
  place("ZA", null, "Cape Town", "Africa/Johannesburg", en_ZA, 1),
  place("IN", "KA", "Bengaluru", "Asia/Kolkata", en_IN, 4),
  place("SG", null, "Singapore", "Asia/Singapore", en, 2),
  place("AU", "NSW", "Sydney", "Australia/Sydney", en_AU, 3),
  place("AU", "VIC", "Melbourne", "Australia/Melbourne", en_AU, 2),
  place("NZ", null, "Auckland", "Pacific/Auckland", en_AU, 1),
];

/**
 * Job titles by the level the scorer reads off them (apps/scoring `seniorityOf`: chief, CxO,
 * founder, president → c-level; VP, SVP, head of → vp; director; manager, lead, principal →
 * manager; anything else → individual). No "Vice President": the scorer reads
 * "president" in it first.
 */
export const TITLES = {
  c_level: [
    "Chief Executive Officer",
    "CEO",
    "Chief Revenue Officer",
    "CTO",
    "CFO",
    "COO",
    "Chief Marketing Officer",
    "Founder",
    "Co-Founder & CEO",
    "President",
  ],
  vp: [
    "VP of Sales",
    "VP Marketing",
    "VP Engineering",
    "SVP Sales",
    "VP Customer Success",
    "Head of Growth",
    "Head of Revenue Operations",
    "Head of Demand Generation",
  ],
  director: [
    "Director of Sales",
    "Sales Director",
    "Director of Marketing",
    "Director, Revenue Operations",
    "Senior Director of Growth",
    "IT Director",
    "Director of Finance",
  ],
  manager: [
    "Sales Manager",
    "Marketing Operations Manager",
    "RevOps Manager",
    "Engineering Manager",
    "Product Marketing Manager",
    "Account Manager",
    "Demand Generation Lead",
    "Principal Engineer",
    "Customer Success Manager",
  ],
  individual: [
    "Account Executive",
    "Sales Development Representative",
    "Business Development Representative",
    "Marketing Specialist",
    "Data Analyst",
    "Software Engineer",
    "Revenue Operations Analyst",
    "Solutions Consultant",
    "Growth Marketer",
    "Customer Success Associate",
  ],
} as const;
type Level = keyof typeof TITLES;
/** The next level up, for a contact promoted after it was created. */
const PROMOTION: Partial<Record<Level, Level>> = {
  individual: "manager",
  manager: "director",
  director: "vp",
};

const LEVEL_WEIGHTS: { value: Level | "none"; weight: number }[] = [
  { value: "c_level", weight: 14 },
  { value: "vp", weight: 14 },
  { value: "director", weight: 16 },
  { value: "manager", weight: 22 },
  { value: "individual", weight: 26 },
  { value: "none", weight: 8 },
];

/** smb 42%, mid-market 30%, enterprise 28% (scorer bands: < 200, < 2,000, larger). */
const BAND_WEIGHTS: Record<HeadcountBand["label"], number> = {
  "1-10": 6,
  "11-50": 14,
  "51-200": 22,
  "201-500": 18,
  "501-1,000": 12,
  "1,001-5,000": 14,
  "5,001-10,000": 8,
  "10,001+": 6,
};

/** In the scorer's ideal-customer profile (about 60%) and outside it. */
const INDUSTRIES: { value: string; weight: number }[] = [
  { value: "Software", weight: 14 },
  { value: "SaaS", weight: 10 },
  { value: "Fintech", weight: 8 },
  { value: "Financial Services", weight: 7 },
  { value: "E-commerce", weight: 7 },
  { value: "Internet", weight: 4 },
  { value: "Information Technology", weight: 7 },
  { value: "Healthcare", weight: 8 },
  { value: "Manufacturing", weight: 8 },
  { value: "Education", weight: 6 },
  { value: "Retail", weight: 5 },
  { value: "Logistics", weight: 5 },
  { value: "Media", weight: 4 },
  { value: "Professional Services", weight: 5 },
  { value: "Real Estate", weight: 2 },
];

/** Company names: a word and what an industry's companies call themselves. */
const NAME_WORDS = [
  "Northwind",
  "Bluepeak",
  "Lumen",
  "Harbor",
  "Juniper",
  "Vertex",
  "Copper",
  "Atlas",
  "Meridian",
  "Orchid",
  "Granite",
  "Brightpath",
  "Cobalt",
  "Evergreen",
  "Fathom",
  "Helix",
  "Keystone",
  "Lattice",
  "Mosaic",
  "Nimbus",
  "Onyx",
  "Pinnacle",
  "Quarry",
  "Redwood",
  "Sable",
  "Tidal",
  "Umbra",
  "Vantage",
  "Willow",
  "Zephyr",
  "Alder",
  "Beacon",
  "Cinder",
  "Drift",
  "Ember",
  "Foundry",
  "Glacier",
  "Hollow",
  "Ironclad",
  "Kestrel",
];
const NAME_SUFFIX: Record<string, string[]> = {
  Software: ["Software", "Labs", "Systems", "Cloud"],
  SaaS: ["HQ", "Cloud", "io", "Apps"],
  Fintech: ["Pay", "Ledger", "Capital", "Payments"],
  "Financial Services": ["Financial", "Capital Partners", "Wealth", "Bancorp"],
  "E-commerce": ["Commerce", "Market", "Goods", "Shop"],
  Internet: ["Digital", "Online", "Networks", "Media"],
  "Information Technology": ["Technologies", "IT Solutions", "Data", "Systems"],
  Healthcare: ["Health", "Care", "Medical", "Clinics"],
  Manufacturing: ["Manufacturing", "Industries", "Fabrication", "Components"],
  Education: ["Learning", "Academy", "Education", "Schools"],
  Retail: ["Retail", "Stores", "Outfitters", "Supply"],
  Logistics: ["Logistics", "Freight", "Shipping", "Transport"],
  Media: ["Media", "Studios", "Publishing", "Network"],
  "Professional Services": ["Consulting", "Advisory", "Partners", "Group"],
  "Real Estate": ["Properties", "Realty", "Estates", "Homes"],
};

const STAGES: SelectOption[] = ["Discovery", "Qualification", "Proposal", "Negotiation"].map(
  (label) => ({ id: optionId("stage", label), label }),
);
const PLANS = ["Growth", "Scale", "Enterprise"] as const;

const SITE = "https://www.pipeline-whisperer.example";
const APP = "https://app.pipeline-whisperer.example";

type SignalKind =
  | "page_viewed"
  | "pricing_viewed"
  | "form_submitted"
  | "demo_requested"
  | "trial_started";

/** How strongly a lead is buying: which signals it sent, and how recently. */
type Intent = {
  name: "hot" | "warm" | "cool";
  weight: number;
  /** The signals to draw from (the first always included), at most four in all. */
  first: SignalKind[];
  more: { value: SignalKind; weight: number }[];
  /** The newest signal is this many hours old (range), the others older. */
  latestHours: [number, number];
  spreadDays: number;
};
const INTENTS: Intent[] = [
  {
    name: "hot",
    weight: 20,
    first: ["demo_requested", "trial_started"],
    more: [
      { value: "pricing_viewed", weight: 5 },
      { value: "page_viewed", weight: 4 },
      { value: "form_submitted", weight: 2 },
    ],
    latestHours: [0.2, 36],
    spreadDays: 6,
  },
  {
    name: "warm",
    weight: 35,
    first: ["pricing_viewed", "form_submitted"],
    more: [
      { value: "page_viewed", weight: 6 },
      { value: "pricing_viewed", weight: 2 },
      { value: "form_submitted", weight: 1 },
    ],
    latestHours: [24, 24 * 7],
    spreadDays: 14,
  },
  {
    name: "cool",
    weight: 45,
    first: ["page_viewed"],
    more: [
      { value: "page_viewed", weight: 6 },
      { value: "pricing_viewed", weight: 1 },
    ],
    latestHours: [24 * 7, 24 * 40],
    spreadDays: 20,
  },
];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** ASCII letters and digits for an address or a host: "Müller-Lüdenscheidt" → "muller-ludenscheidt". */
export function slug(s: string, sep = "-"): string {
  return s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/ß/g, "ss")
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join(sep);
}

const iso = (offsetMs: number) => new Date(ANCHOR + offsetMs).toISOString();

export type GeneratedFiles = {
  /** File name → content, e.g. `lightfield.ndjson`. */
  files: Record<string, string>;
  /** What the files hold, for the README and the tests. */
  stats: {
    leads: number;
    lightfield: number;
    signals: number;
    opportunities: number;
    updates: number;
    bytes: number;
  };
};

/** The sample files for a seed and lead count; pure (no clock, no I/O). */
export function generateSampleEvents(o: { seed?: number; leads?: number } = {}): GeneratedFiles {
  const seed = o.seed ?? DEFAULT_SEED;
  const leads = o.leads ?? DEFAULT_LEADS;
  const f = new Faker({ locale: [en, base], seed });
  // One faker per locale, each seeded from the run's seed: names and streets that fit the place.
  const local = new Map<LocaleDefinition, Faker>();
  const fakerFor = (locale: LocaleDefinition) => {
    let x = local.get(locale);
    if (!x) {
      x = new Faker({ locale: [locale, en, base] });
      x.seed(seed * 1_000 + local.size + 1);
      local.set(locale, x);
    }
    return x;
  };
  const owners = Array.from(
    { length: 6 },
    () => `mem_${f.string.alphanumeric({ length: 12, casing: "lower" })}`,
  );
  const usedDomains = new Set<string>();
  const usedIds = new Set<string>();
  const id = (prefix: string) => {
    for (;;) {
      const candidate = `${prefix}_${f.string.alphanumeric({ length: 16, casing: "lower" })}`;
      if (!usedIds.has(candidate)) {
        usedIds.add(candidate);
        return candidate;
      }
    }
  };
  const between = (lo: number, hi: number) => lo + f.number.float({ min: 0, max: 1 }) * (hi - lo);
  /** Whole seconds: the written times read cleanly. */
  const seconds = (ms: number) => Math.round(ms / 1000) * 1000;
  /** A time after `after` (by a minute at least) and at least a minute ago. */
  const laterThan = (after: number) => {
    const lo = after + 60_000;
    const hi = Math.max(lo, -60_000);
    return Math.min(-60_000, seconds(between(lo, Math.max(lo, Math.min(hi, lo + 30 * DAY_MS)))));
  };

  const crm: SeedLine[] = [];
  const sig: SeedLine[] = [];
  let opportunities = 0;
  let updates = 0;

  for (let n = 0; n < leads; n++) {
    const where = f.helpers.weightedArrayElement(
      PLACES.map((p) => ({ value: p, weight: p.weight })),
    );
    const lf = fakerFor(where.locale);
    const level = f.helpers.weightedArrayElement(LEVEL_WEIGHTS);
    const title = level === "none" ? undefined : f.helpers.arrayElement(TITLES[level]);
    const bandLabel = f.helpers.weightedArrayElement(
      HEADCOUNT_BANDS.map((b) => ({ value: b.label, weight: BAND_WEIGHTS[b.label] })),
    );
    const band = HEADCOUNT_BANDS.find((b) => b.label === bandLabel)!;
    const industry = f.helpers.weightedArrayElement(INDUSTRIES);
    const second =
      f.number.float({ min: 0, max: 1 }) < 0.15
        ? f.helpers.weightedArrayElement(INDUSTRIES.filter((i) => i.value !== industry))
        : undefined;
    const intent = f.helpers.weightedArrayElement(
      INTENTS.map((i) => ({ value: i, weight: i.weight })),
    );

    // The company.
    let company: string;
    let domain: string;
    do {
      company =
        f.number.float({ min: 0, max: 1 }) < 0.3
          ? lf.company.name()
          : `${f.helpers.arrayElement(NAME_WORDS)} ${f.helpers.arrayElement(NAME_SUFFIX[industry]!)}`;
      domain = `${slug(company.replace(/\b(and|und|et|e|y|en|och)\b/gi, " "))}.example`;
    } while (usedDomains.has(domain) || domain === ".example");
    usedDomains.add(domain);

    // The person.
    const firstName = lf.person.firstName();
    const lastName = lf.person.lastName();
    const mailbox =
      [slug(firstName, "."), slug(lastName, ".")].filter(Boolean).join(".") || "contact";
    const emails = [`${mailbox}@${domain}`];
    if (f.number.float({ min: 0, max: 1 }) < 0.1)
      emails.push(`${slug(firstName, ".").slice(0, 1)}${slug(lastName, "")}@${domain}`);
    const phones =
      f.number.float({ min: 0, max: 1 }) < 0.7 ? [lf.phone.number({ style: "international" })] : [];
    const address: Address = {
      street: lf.location.streetAddress(),
      street2: null,
      city: where.city,
      state: where.state,
      postalCode: lf.location.zipCode(),
      country: where.country,
      latitude: null,
      longitude: null,
    };
    // Most contacts name their zone; the rest leave it to ingest's guess from the address.
    const namesZone = !where.guessable || f.number.float({ min: 0, max: 1 }) < 0.7;
    const consentRoll = f.number.float({ min: 0, max: 1 });
    const marketingConsent = consentRoll < 0.04 ? false : consentRoll < 0.4 ? true : undefined;

    const contactId = id("con");
    const accountId = id("acc");
    const leadId = leadIdOf(contactId);
    const ownerId = f.helpers.arrayElement(owners);

    // The signals: the newest `latestHours` ago, the others up to `spreadDays` before it.
    const count = Math.min(4, 1 + f.number.int({ min: 0, max: intent.name === "cool" ? 1 : 3 }));
    const kinds: SignalKind[] = [f.helpers.arrayElement(intent.first)];
    while (kinds.length < count) kinds.push(f.helpers.weightedArrayElement(intent.more));
    const latest = -seconds(between(intent.latestHours[0], intent.latestHours[1]) * HOUR_MS);
    const offsets = kinds
      .map((_, i) => (i === 0 ? latest : seconds(latest - between(0, intent.spreadDays) * DAY_MS)))
      .sort((a, b) => a - b);
    // The strongest signal is the newest: a demo request after the pricing page, not before.
    const ordered = [...kinds.slice(1), kinds[0]!];

    // The CRM: created some time before the first signal (a first visit, then a form), the
    // account a minute after its contact; some get an opportunity, some a new title.
    const contactAt = seconds(offsets[0]! - between(0.5, 72) * HOUR_MS - between(0, 10) * DAY_MS);
    const accountAt = contactAt + seconds(between(20, 180) * 1000);
    const lines: { at: number; line: SeedLine }[] = [];
    const next = level === "none" ? undefined : PROMOTION[level];
    const promoted =
      next && f.number.float({ min: 0, max: 1 }) < 0.1
        ? f.helpers.arrayElement(TITLES[next])
        : undefined;
    const contact = {
      id: contactId,
      accountId,
      firstName,
      lastName,
      emails,
      ...(phones.length ? { phones } : {}),
      ...(title ? { title } : {}),
      ...(namesZone ? { timezone: where.zone } : {}),
      address,
      ...(marketingConsent !== undefined ? { marketingConsent } : {}),
    };
    lines.push({
      at: contactAt,
      line: {
        webhookId: `seed_${contactId}_contact.created`,
        route: lightfieldRoute("contact.created"),
        lead: leadId,
        offsetMs: contactAt,
        body: triggerBody(
          contactRecord(contact, { createdAt: iso(contactAt), updatedAt: iso(contactAt) }),
          iso(contactAt),
        ),
      },
    });
    const industries = [industry, ...(second ? [second] : [])].map(industryOption);
    lines.push({
      at: accountAt,
      line: {
        webhookId: `seed_${accountId}_account.created`,
        route: lightfieldRoute("account.created"),
        lead: leadId,
        offsetMs: accountAt,
        body: triggerBody(
          accountRecord(
            {
              id: accountId,
              name: company,
              domain,
              headcount: { id: band.id, label: band.label },
              industries,
              address: {
                ...address,
                street: lf.location.streetAddress(),
                postalCode: lf.location.zipCode(),
              },
              contactIds: [contactId],
              ownerId,
            },
            { createdAt: iso(accountAt), updatedAt: iso(accountAt) },
          ),
          iso(accountAt),
        ),
      },
    });
    const oppChance = { hot: 0.6, warm: 0.35, cool: 0.1 }[intent.name];
    if (f.number.float({ min: 0, max: 1 }) < oppChance) {
      opportunities++;
      const oppAt = laterThan(accountAt);
      const plan = f.helpers.arrayElement(
        band.max <= 200 ? PLANS.slice(0, 2) : band.max <= 1_000 ? PLANS : PLANS.slice(1),
      );
      const seats = f.number.int({ min: 1, max: 10 }) * (band.max <= 200 ? 5 : 25);
      const perSeat = { Growth: 480, Scale: 900, Enterprise: 1_500 }[plan];
      const oppId = id("opp");
      lines.push({
        at: oppAt,
        line: {
          webhookId: `seed_${oppId}_opportunity.created`,
          route: lightfieldRoute("opportunity.created"),
          lead: leadId,
          offsetMs: oppAt,
          body: triggerBody(
            opportunityRecord(
              {
                id: oppId,
                name: `${company} — ${plan} (${seats} seats)`,
                stage: f.helpers.arrayElement(STAGES),
                amount: seats * perSeat,
                accountId,
                championId: contactId,
                ownerId,
              },
              { createdAt: iso(oppAt), updatedAt: iso(oppAt) },
            ),
            iso(oppAt),
          ),
        },
      });
    }
    if (promoted) {
      updates++;
      const updatedAt = laterThan(contactAt);
      lines.push({
        at: updatedAt,
        line: {
          webhookId: `seed_${contactId}_contact.updated_title`,
          route: lightfieldRoute("contact.updated"),
          lead: leadId,
          offsetMs: updatedAt,
          body: triggerBody(
            contactRecord(
              { ...contact, title: promoted },
              { createdAt: iso(contactAt), updatedAt: iso(updatedAt) },
            ),
            iso(updatedAt),
            { before: { title }, after: { title: promoted } },
          ),
        },
      });
    }
    lines.sort((a, b) => a.at - b.at);
    crm.push(...lines.map((l) => l.line));

    for (const [i, kind] of ordered.entries()) {
      const at = offsets[i]!;
      const body: Record<string, unknown> = {
        type: kind,
        occurredAt: iso(at),
        leadId,
        ...signalDetails(kind, f, { email: emails[0]!, firstName, lastName, company, band }),
      };
      sig.push({
        webhookId: `seed_${contactId}_signal_${i + 1}`,
        route: SIGNALS_ROUTE,
        lead: leadId,
        offsetMs: at,
        body,
      });
    }
  }

  const ndjson = (lines: SeedLine[]) => lines.map((l) => `${JSON.stringify(l)}\n`).join("");
  const files = { "lightfield.ndjson": ndjson(crm), "signals.ndjson": ndjson(sig) };
  return {
    files,
    stats: {
      leads,
      lightfield: crm.length,
      signals: sig.length,
      opportunities,
      updates,
      bytes: Object.values(files).reduce((n, t) => n + Buffer.byteLength(t), 0),
    },
  };
}

const BLOG = [
  "why-pipeline-stalls-after-the-demo",
  "follow-up-cadences-that-work",
  "lead-scoring-without-a-data-team",
  "ab-testing-outbound-email",
];
const PAGES = ["/", "/product", "/customers", "/integrations/lightfield", "/security"];
const SOURCES = [
  { utm_source: "google", utm_medium: "cpc", utm_campaign: "pipeline-automation" },
  { utm_source: "linkedin", utm_medium: "paid-social", utm_campaign: "revops-leaders" },
  { utm_source: "newsletter", utm_medium: "email", utm_campaign: "monthly-digest" },
  { utm_source: "g2", utm_medium: "referral", utm_campaign: "category-page" },
];

/** What the site's tag sends with each kind of signal: the page, the campaign, the form. */
function signalDetails(
  kind: SignalKind,
  f: Faker,
  who: { email: string; firstName: string; lastName: string; company: string; band: HeadcountBand },
): Record<string, unknown> {
  const campaign = f.number.float({ min: 0, max: 1 }) < 0.6 ? f.helpers.arrayElement(SOURCES) : {};
  switch (kind) {
    case "page_viewed": {
      const blog = f.number.float({ min: 0, max: 1 }) < 0.4;
      const path = blog ? `/blog/${f.helpers.arrayElement(BLOG)}` : f.helpers.arrayElement(PAGES);
      return {
        url: `${SITE}${path}`,
        properties: { path, secondsOnPage: f.number.int({ min: 5, max: 420 }), ...campaign },
      };
    }
    case "pricing_viewed":
      return {
        url: `${SITE}/pricing`,
        properties: {
          path: "/pricing",
          plan: f.helpers.arrayElement(PLANS).toLowerCase(),
          secondsOnPage: f.number.int({ min: 10, max: 600 }),
          ...campaign,
        },
      };
    case "form_submitted":
      return {
        email: who.email,
        url: `${SITE}/resources/pipeline-benchmark-report`,
        profile: { firstName: who.firstName, lastName: who.lastName, company: who.company },
        properties: {
          form: "ebook_download",
          asset: "2026 pipeline benchmark report",
          ...campaign,
        },
      };
    case "demo_requested":
      return {
        email: who.email,
        url: `${SITE}/demo`,
        profile: { firstName: who.firstName, lastName: who.lastName, company: who.company },
        properties: { form: "book_demo", teamSize: who.band.label, ...campaign },
      };
    case "trial_started":
      return {
        email: who.email,
        url: `${APP}/signup`,
        properties: {
          plan: "trial",
          seats: f.number.int({ min: 1, max: 12 }),
          workspace: slug(who.company),
        },
      };
  }
}
