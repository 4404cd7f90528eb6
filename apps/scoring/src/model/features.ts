/**
 * Feature extraction for the built-in model: pure functions from a lead's
 * profile, signals and engagement to named numeric features in [0, 1] (or
 * small signed values), each with the plain-language fact behind it.
 */
export type Profile = {
  email?: string;
  firstName?: string;
  lastName?: string;
  title?: string;
  company?: string;
  domain?: string;
  industry?: string;
  employees?: number;
  country?: string;
  timezone?: string;
  stage?: string;
  consent?: boolean;
  accountId?: string;
};

export type Signal = { kind: string; occurredAt: Date; url?: string | null };

export type Engagement = Partial<
  Record<
    | "delivered"
    | "opened"
    | "clicked"
    | "replied"
    | "meeting_booked"
    | "converted"
    | "bounced"
    | "unsubscribed",
    number
  >
>;

/** The ideal-customer profile the fit features compare against. */
export type Icp = {
  industries: string[];
  /** Employee count range that fits best. */
  minEmployees: number;
  maxEmployees: number;
  countries?: string[];
};

export const DEFAULT_ICP: Icp = {
  industries: [
    "software",
    "saas",
    "fintech",
    "financial services",
    "e-commerce",
    "internet",
    "information technology",
  ],
  minEmployees: 50,
  maxEmployees: 5_000,
};

export type Seniority = "c_level" | "vp" | "director" | "manager" | "individual" | "unknown";

const SENIORITY_PATTERNS: [Seniority, RegExp][] = [
  ["c_level", /\b(chief|c[etfomri]o|founder|co-founder|owner|president)\b/i],
  ["vp", /\b(vp|vice[- ]president|svp|evp|head of)\b/i],
  ["director", /\bdirector\b/i],
  ["manager", /\b(manager|lead|principal)\b/i],
];

export function seniorityOf(title: string | undefined): Seniority {
  if (!title?.trim()) return "unknown";
  for (const [level, re] of SENIORITY_PATTERNS) if (re.test(title)) return level;
  return "individual";
}

const SENIORITY_VALUE: Record<Seniority, number> = {
  c_level: 1,
  vp: 0.85,
  director: 0.65,
  manager: 0.4,
  individual: 0.15,
  unknown: 0,
};

export type SizeBand = "smb" | "mid" | "enterprise" | "unknown";
export function sizeBandOf(employees: number | undefined): SizeBand {
  if (employees === undefined) return "unknown";
  if (employees < 200) return "smb";
  if (employees < 2_000) return "mid";
  return "enterprise";
}

/** How much each intent signal says about buying intent, and how fast it fades. */
export const SIGNAL_WEIGHTS: Record<string, { weight: number; label: string }> = {
  demo_requested: { weight: 1, label: "requested a demo" },
  trial_started: { weight: 0.9, label: "started a trial" },
  pricing_viewed: { weight: 0.7, label: "viewed pricing" },
  form_submitted: { weight: 0.5, label: "submitted a form" },
  page_viewed: { weight: 0.1, label: "viewed a page" },
};
export const INTENT_HALF_LIFE_DAYS = 7;

export type Feature = { name: string; value: number; fact: string };

export function extractFeatures(input: {
  profile: Profile;
  signals: Signal[];
  engagement: Engagement;
  icp?: Icp;
  now: Date;
}): Feature[] {
  const { profile, signals, engagement, now } = input;
  const icp = input.icp ?? DEFAULT_ICP;
  const features: Feature[] = [];
  const seniority = seniorityOf(profile.title);
  features.push({
    name: "seniority",
    value: SENIORITY_VALUE[seniority],
    fact: profile.title ? `${profile.title} (${seniority.replace("_", "-")})` : "no title known",
  });

  const employees = profile.employees;
  const sizeFit =
    employees === undefined
      ? 0
      : employees >= icp.minEmployees && employees <= icp.maxEmployees
        ? 1
        : employees < icp.minEmployees
          ? employees / icp.minEmployees
          : 0.5;
  features.push({
    name: "company_size_fit",
    value: sizeFit,
    fact:
      employees === undefined
        ? "company size unknown"
        : `${employees.toLocaleString("en-US")} employees (ICP ${icp.minEmployees}–${icp.maxEmployees})`,
  });

  const industry = profile.industry?.toLowerCase().trim();
  const industryFit = industry
    ? icp.industries.some((i) => industry.includes(i) || i.includes(industry))
      ? 1
      : 0
    : 0;
  features.push({
    name: "industry_fit",
    value: industryFit,
    fact: industry
      ? `${profile.industry} ${industryFit ? "is in" : "is outside"} the ideal-customer profile`
      : "industry unknown",
  });

  // Intent: decayed sum of signal weights, strongest signal named.
  let intent = 0;
  let strongest: { kind: string; contribution: number; ageDays: number } | undefined;
  for (const s of signals) {
    const w = SIGNAL_WEIGHTS[s.kind]?.weight ?? 0.05;
    const ageDays = Math.max(0, (now.getTime() - s.occurredAt.getTime()) / 86_400_000);
    const contribution = w * 0.5 ** (ageDays / INTENT_HALF_LIFE_DAYS);
    intent += contribution;
    if (!strongest || contribution > strongest.contribution)
      strongest = { kind: s.kind, contribution, ageDays };
  }
  features.push({
    name: "intent",
    value: Math.min(1.5, intent),
    fact: strongest
      ? `${SIGNAL_WEIGHTS[strongest.kind]?.label ?? strongest.kind} ${ago(strongest.ageDays)}${signals.length > 1 ? ` (+${signals.length - 1} more signals)` : ""}`
      : "no intent signals",
  });

  const engaged =
    (engagement.replied ?? 0) * 1 +
    (engagement.clicked ?? 0) * 0.4 +
    (engagement.opened ?? 0) * 0.1 +
    (engagement.meeting_booked ?? 0) * 1.5;
  features.push({
    name: "engagement",
    value: Math.min(1.5, engaged),
    fact: engaged > 0 ? describeEngagement(engagement) : "no engagement with outreach yet",
  });

  const negative =
    (engagement.unsubscribed ?? 0) > 0 || (engagement.bounced ?? 0) > 0 || profile.consent === false
      ? 1
      : 0;
  features.push({
    name: "opted_out",
    value: negative,
    fact: negative ? "unsubscribed, bounced or withdrew consent" : "no opt-out",
  });
  return features;
}

function ago(days: number): string {
  if (days < 1 / 24) return "in the last hour";
  if (days < 1) return `${Math.round(days * 24)} hours ago`;
  return `${Math.round(days)} days ago`;
}

function describeEngagement(e: Engagement): string {
  const parts = (["meeting_booked", "replied", "clicked", "opened"] as const)
    .filter((k) => (e[k] ?? 0) > 0)
    .map((k) => `${e[k]}× ${k.replace("_", " ")}`);
  return parts.join(", ");
}

/** A small, stable set of segments the experiment engine learns per: persona × size band. */
export function segmentOf(profile: Profile): string {
  const seniority = seniorityOf(profile.title);
  const persona =
    seniority === "c_level" || seniority === "vp"
      ? "exec"
      : seniority === "director" || seniority === "manager"
        ? "manager"
        : "practitioner";
  const band = sizeBandOf(profile.employees);
  return `${persona}-${band === "unknown" ? "smb" : band}`;
}

/** What the copywriter can say about the pain this industry feels. */
export function painPointFor(industry: string | undefined): string {
  const i = industry?.toLowerCase() ?? "";
  if (/fintech|financ|bank/.test(i)) return "manual reconciliation eating into close week";
  if (/e-?commerce|retail/.test(i)) return "abandoned carts and slow follow-up";
  if (/software|saas|internet|information/.test(i))
    return "pipeline that stalls between demo and decision";
  if (/health/.test(i)) return "compliance work slowing every launch";
  return "pipeline that depends on manual follow-up";
}
