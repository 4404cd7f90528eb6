// Synthetic leads for the scorer: drawn the same for a seed, titled so the scorer reads
// their level, described by events the topic accepts, converting as the world's truth
// says (the priors world exactly as the scorer's hand-set weights; the shifted world at
// about 5% with a truth AUC in 0.70–0.80); a bad lead model is refused with its path.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRng } from "@pw/bandit";
import { LeadEvent } from "@pw/events";
import { afterAll, describe, expect, it } from "vitest";
import { leadGenerator, type SimLead, trueProbability } from "./lead-model.ts";
import { TITLES } from "./lead-names.ts";
import { leadEvents } from "./sim-lead-events.ts";
import { readWorldFile, type World, WorldFileError } from "./world.ts";

const root = join(import.meta.dirname, "../../..");
const dir = await mkdtemp(join(tmpdir(), "lead-model-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const priors = await readWorldFile(join(root, "data/worlds/scoring-priors.json"));
const shifted = await readWorldFile(join(root, "data/worlds/scoring-shifted.json"));

/** The scorer's title rules (apps/scoring/src/model/features.ts), copied: first match wins. */
const LEVEL_RULES: [string, RegExp][] = [
  ["c_level", /\b(chief|c[etfomri]o|founder|co-founder|owner|president)\b/i],
  ["vp", /\b(vp|vice[- ]president|svp|evp|head of)\b/i],
  ["director", /\bdirector\b/i],
  ["manager", /\b(manager|lead|principal)\b/i],
];
const levelOf = (title?: string) =>
  !title?.trim() ? "unknown" : (LEVEL_RULES.find(([, re]) => re.test(title))?.[0] ?? "individual");

/** The scorer's prior model (INITIAL_WEIGHTS over its features), copied, as a probability. */
function scorerPrior(l: SimLead): number {
  const seniority = { c_level: 1, vp: 0.85, director: 0.65, manager: 0.4, individual: 0.15 };
  const weight = {
    demo_requested: 1,
    trial_started: 0.9,
    pricing_viewed: 0.7,
    form_submitted: 0.5,
  };
  const icp = ["software", "saas", "fintech", "financial services", "e-commerce", "internet"];
  const e = l.profile.employees;
  const size = e >= 50 && e <= 5000 ? 1 : e < 50 ? e / 50 : 0.5;
  const industry = l.profile.industry.toLowerCase();
  const fit = [...icp, "information technology"].some(
    (i) => industry.includes(i) || i.includes(industry),
  );
  let intent = 0;
  for (const s of l.signals)
    intent += ((weight as Record<string, number>)[s.kind] ?? 0.1) * 0.5 ** (s.ageDays / 7);
  const engagement = 0.4 * l.engagement.clicked + 0.1 * l.engagement.opened;
  const logit =
    -2.2 +
    1.4 * ((seniority as Record<string, number>)[l.seniority] ?? 0) +
    0.9 * size +
    0.8 * (fit ? 1 : 0) +
    2.6 * Math.min(1.5, intent) +
    1.8 * Math.min(1.5, engagement) -
    4 * (l.profile.consent === false ? 1 : 0);
  return 1 / (1 + Math.exp(-logit));
}

/** Rank AUC (Mann–Whitney, ties count half): the chance a converter outranks a non-converter. */
function auc(scores: number[], labels: number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    for (let k = i; k < j; k++) {
      if (!order[k]![1]) continue;
      rankSum += (i + j + 1) / 2;
      pos++;
    }
    i = j;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * (order.length - pos));
}

const draw = (world: World, n: number, seed = 1, prefix?: string) => {
  const g = leadGenerator(world, seededRng(seed), prefix ? { prefix } : {});
  return Array.from({ length: n }, () => g.next());
};

describe("lead generator", () => {
  it("draws the same leads for a seed, others for another; ids count up whatever the seed", () => {
    expect(draw(shifted, 300, 7)).toEqual(draw(shifted, 300, 7));
    const other = draw(shifted, 300, 8);
    expect(other).not.toEqual(draw(shifted, 300, 7));
    expect(other.map((l) => l.id).slice(0, 3)).toEqual(["lf_sim-0", "lf_sim-1", "lf_sim-2"]);
    expect(draw(shifted, 2, 8, "run-2")[1]!.id).toBe("lf_run-2-1");
    expect(() => leadGenerator(shifted, seededRng(1), { prefix: "Run 2" })).toThrow(/prefix/);
  });

  it("gives every lead a unique e-mail, and each segment its share", () => {
    const leads = draw(shifted, 20_000);
    expect(new Set(leads.map((l) => l.profile.email)).size).toBe(leads.length);
    const smb = leads.filter((l) => l.segment === "smb").length / leads.length;
    expect(smb).toBeGreaterThan(0.48); // share 5 of 10
    expect(smb).toBeLessThan(0.52);
  });

  it("titles every listed and drawn lead so the scorer reads its level (none for unknown)", () => {
    for (const [level, titles] of Object.entries(TITLES))
      for (const title of titles) expect([title, levelOf(title)]).toEqual([title, level]);
    for (const l of [...draw(priors, 2000), ...draw(shifted, 2000)])
      expect([l.profile.title, levelOf(l.profile.title)]).toEqual([l.profile.title, l.seniority]);
    expect(draw(shifted, 2000).some((l) => l.seniority === "unknown" && !l.profile.title)).toBe(
      true,
    );
  });
});

describe("lead events", () => {
  it("builds events that lead.events.v1 accepts as they are: a contact, then its signals", () => {
    const at = new Date("2026-03-02T09:00:00Z");
    const leads = [...draw(priors, 400), ...draw(shifted, 400, 2)];
    expect(leads.some((l) => l.profile.consent === false)).toBe(true);
    expect(leads.some((l) => l.signals.length > 1 && !l.profile.title)).toBe(true);
    for (const lead of leads) {
      const events = leadEvents(lead, { at });
      for (const e of events) expect(LeadEvent.parse(e)).toEqual(e);
      const [contact, ...signals] = events;
      expect(contact).toMatchObject({
        type: "lead.crm_record_changed.v1",
        subject: lead.id,
        source: "pw://sim",
        data: { objectType: "contacts", source: "lightfield_webhook", profile: lead.profile },
      });
      expect(signals.map((s) => [s.type, s.subject, s.data.occurredAt])).toEqual(
        lead.signals.map((s) => [
          "lead.intent_signal.v1",
          lead.id,
          new Date(at.getTime() - s.ageDays * 86_400_000).toISOString(),
        ]),
      );
    }
  });
});

describe("the truth", () => {
  it("is the logistic of the world's logits", () => {
    const lead = draw(shifted, 1)[0]!;
    const probe = {
      ...lead,
      segment: "smb",
      seniority: "vp" as const,
      profile: { ...lead.profile, employees: 120, industry: "fintech", consent: false },
      signals: [{ kind: "pricing_viewed" as const, ageDays: 7 }],
      engagement: { opened: 1, clicked: 0 },
    };
    // bias + vp + size + ICP + pricing at one half-life + opened + consent false
    const logit = -5.65 + 0.4 + 1.5 + 1.2 + 1.5 / 2 + 0.5 - 3;
    expect(trueProbability(shifted, probe)).toBeCloseTo(1 / (1 + Math.exp(-logit)), 12);
  });

  it("of the priors world is the scorer's prior model, lead for lead", () => {
    const leads = draw(priors, 5000);
    for (const l of leads) expect(Math.abs(l.trueP - scorerPrior(l))).toBeLessThan(1e-12);
    const base = leads.reduce((n, l) => n + l.trueP, 0) / leads.length;
    const coin = seededRng(4);
    const truthAuc = auc(
      leads.map((l) => l.trueP),
      leads.map((l) => (coin() < l.trueP ? 1 : 0)),
    );
    console.log(
      `scoring-priors: base rate ${(100 * base).toFixed(1)}% over 5,000 leads, truth AUC ${truthAuc.toFixed(3)}`,
    );
    expect(base).toBeGreaterThan(0.3);
    expect(base).toBeLessThan(0.5);
  });

  it("of the shifted world converts about 5% and ranks them with an AUC of 0.70–0.80", () => {
    const leads = draw(shifted, 20_000, 3);
    const coin = seededRng(4);
    const converted = leads.map((l) => (coin() < l.trueP ? 1 : 0));
    const base = leads.reduce((n, l) => n + l.trueP, 0) / leads.length;
    const rate = converted.reduce((n: number, c) => n + c, 0) / leads.length;
    const truthAuc = auc(
      leads.map((l) => l.trueP),
      converted,
    );
    const priorAuc = auc(leads.map(scorerPrior), converted);
    console.log(
      `scoring-shifted: base rate ${(100 * base).toFixed(2)}% (drawn ${(100 * rate).toFixed(2)}%), truth AUC ${truthAuc.toFixed(3)}, the scorer's priors ${priorAuc.toFixed(3)}`,
    );
    for (const r of [base, rate]) {
      expect(r).toBeGreaterThan(0.04);
      expect(r).toBeLessThan(0.06);
    }
    expect(truthAuc).toBeGreaterThan(0.7);
    expect(truthAuc).toBeLessThan(0.8);
    expect(priorAuc).toBeLessThan(truthAuc); // the market disagrees with the priors
  });
});

describe("lead models in world files", () => {
  const leads = {
    seniority: { vp: 1, individual: 2 },
    employees: [{ min: 10, max: 500, weight: 1 }],
    industries: { software: 1 },
    signals: { pricing_viewed: { probability: 0.1, ageDays: { dist: "fixed", days: 2 } } },
  };
  const good = {
    name: "x",
    variants: ["a", "b"],
    segments: [
      { name: "smb", share: 1, rates: { a: 0.1, b: 0.2 }, leads },
      { name: "ent", share: 1, rates: { a: 0.1, b: 0.2 }, leads },
    ],
    leadModel: { truth: { bias: -3, signals: { pricing_viewed: 1 }, signalHalfLifeDays: 7 } },
  };
  const withLeads = (l: object) => ({
    ...good,
    segments: [{ ...good.segments[0], leads: { ...leads, ...l } }, good.segments[1]],
  });

  /** The problems readWorldFile names (without the file prefix). */
  async function problems(world: unknown): Promise<string[]> {
    const file = join(dir, "w.json");
    await writeFile(file, JSON.stringify(world));
    const error = await readWorldFile(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorldFileError);
    return (error as Error).message.split("\n").map((line) => line.replace(`${file}: `, ""));
  }

  it("reads a good one", async () => {
    await writeFile(join(dir, "good.json"), JSON.stringify(good));
    expect(await readWorldFile(join(dir, "good.json"))).toEqual(good);
  });

  it.each([
    [
      "a truth without leads",
      { ...good, segments: good.segments.map(({ leads: _, ...s }) => s) },
      [
        "segments[0].leads: missing: with a `leadModel`, every segment has `leads` (segment 'smb')",
        "segments[1].leads: missing: with a `leadModel`, every segment has `leads` (segment 'ent')",
      ],
    ],
    [
      "leads without a truth",
      { ...good, leadModel: undefined },
      ["leadModel: missing: segments with `leads` need `leadModel.truth` (who converts)"],
    ],
    [
      "an unknown key in leads",
      withLeads({ seniorty: {} }),
      [
        "segments[0].leads.seniorty: unknown key (allowed: seniority, employees, industries, signals, engagement, consentFalse)",
      ],
    ],
    [
      "an unknown level",
      withLeads({ seniority: { vp: 1, intern: 1 } }),
      [
        "segments[0].leads.seniority.intern: unknown key (allowed: c_level, vp, director, manager, individual, unknown)",
      ],
    ],
    [
      "an unknown key in an age",
      withLeads({
        signals: { demo_requested: { probability: 0.1, ageDays: { dist: "fixed", hours: 2 } } },
      }),
      [
        "segments[0].leads.signals.demo_requested.ageDays.days: missing: a number of days",
        "segments[0].leads.signals.demo_requested.ageDays.hours: unknown key (allowed: dist, days)",
      ],
    ],
    [
      "an unknown key in the truth",
      { ...good, leadModel: { truth: { ...good.leadModel.truth, halfLife: 7 } } },
      [
        "leadModel.truth.halfLife: unknown key (allowed: bias, seniority, employees, industries, signals, signalHalfLifeDays, signalCap, engagement, consentFalse, segments)",
      ],
    ],
    [
      "weights that are all 0",
      withLeads({ seniority: { vp: 0, individual: 0 } }),
      ["segments[0].leads.seniority: weights are relative: at least one must be above 0"],
    ],
    [
      "a negative weight",
      withLeads({ industries: { software: 1, retail: -1 } }),
      ["segments[0].leads.industries.retail: a weight is relative: at least 0"],
    ],
    [
      "a range upside down",
      withLeads({ employees: [{ min: 500, max: 10, weight: 1 }] }),
      ["segments[0].leads.employees[0].max: must be at least min"],
    ],
    [
      "more clicks than opens",
      withLeads({ engagement: { opened: 0.1, clicked: 0.2 } }),
      ["segments[0].leads.engagement.clicked: a click is of an opened mail: at most `opened`"],
    ],
    [
      "signals without a half-life",
      { ...good, leadModel: { truth: { bias: -3, signals: { pricing_viewed: 1 } } } },
      ["leadModel.truth.signalHalfLifeDays: missing: signals decay by it"],
    ],
    [
      "a truth for a segment not declared",
      { ...good, leadModel: { truth: { bias: -3, segments: { "mid-market": 0.3 } } } },
      [
        `leadModel.truth.segments["mid-market"]: segment 'mid-market' is not declared (segments: smb, ent)`,
      ],
    ],
  ])("refuses %s with its JSON path", async (_, world, expected) => {
    expect(await problems(world)).toEqual(expected);
  });
});
