import { describe, expect, it } from "vitest";
import { INITIAL_WEIGHTS, learn, scoreFeatures, sigmoid } from "./builtin.ts";
import { extractFeatures, type Profile, type Signal, segmentOf, seniorityOf } from "./features.ts";

const now = new Date("2026-11-24T12:00:00Z");
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const score = (profile: Profile, signals: Signal[] = [], engagement = {}) =>
  scoreFeatures(extractFeatures({ profile, signals, engagement, now }), INITIAL_WEIGHTS);

const LEADS: {
  name: string;
  profile: Profile;
  signals?: Signal[];
  engagement?: Record<string, number>;
  tier: string;
  driver: string;
}[] = [
  {
    name: "VP at a mid-size SaaS who requested a demo an hour ago",
    profile: { title: "VP of Sales", industry: "SaaS", employees: 400, email: "a@x.io" },
    signals: [
      { kind: "demo_requested", occurredAt: hoursAgo(1) },
      { kind: "pricing_viewed", occurredAt: hoursAgo(2) },
    ],
    tier: "hot",
    driver: "feature.intent",
  },
  {
    name: "CFO at a fintech who viewed pricing yesterday",
    profile: { title: "Chief Financial Officer", industry: "Fintech", employees: 1200 },
    signals: [{ kind: "pricing_viewed", occurredAt: hoursAgo(20) }],
    tier: "hot",
    driver: "feature.intent",
  },
  {
    name: "Director at a fitting company with no intent yet",
    profile: { title: "Director of Operations", industry: "Software", employees: 300 },
    tier: "warm",
    driver: "feature.seniority",
  },
  {
    name: "Intern at a 5-person bakery who read one blog post a month ago",
    profile: { title: "Marketing Intern", industry: "Food", employees: 5 },
    signals: [{ kind: "page_viewed", occurredAt: hoursAgo(24 * 30) }],
    tier: "cold",
    driver: "feature.seniority",
  },
  {
    name: "Hot-looking lead who unsubscribed",
    profile: { title: "CEO", industry: "SaaS", employees: 400 },
    signals: [{ kind: "demo_requested", occurredAt: hoursAgo(1) }],
    engagement: { unsubscribed: 1 },
    tier: "cold",
    driver: "feature.opted_out",
  },
];

describe("built-in model", () => {
  for (const lead of LEADS) {
    it(`${lead.name} → ${lead.tier}, driven by ${lead.driver}`, () => {
      const s = score(lead.profile, lead.signals, lead.engagement);
      expect(s.tier).toBe(lead.tier);
      expect(s.reasons[0]?.code).toBe(lead.driver);
      expect(s.score).toBeGreaterThanOrEqual(0);
      expect(s.score).toBeLessThanOrEqual(100);
    });
  }

  it("ranks a hot lead above a cold one, and says why in plain language", () => {
    const hot = score(LEADS[0]!.profile, LEADS[0]!.signals);
    const cold = score(LEADS[3]!.profile, LEADS[3]!.signals);
    expect(hot.score).toBeGreaterThan(cold.score + 40);
    expect(hot.reasons[0]!.label).toMatch(
      /requested a demo in the last hour|requested a demo 1 hours ago/,
    );
    expect(hot.reasons.find((r) => r.code === "feature.seniority")?.label).toContain(
      "VP of Sales (vp)",
    );
    expect(cold.reasons.find((r) => r.code === "feature.seniority")?.label).toContain(
      "Marketing Intern (individual)",
    );
    // What a cold lead lacks adds nothing: no industry-fit or intent points for the bakery intern.
    expect(cold.reasons.some((r) => r.code === "feature.industry_fit")).toBe(false);
  });

  it("contributions add up: removing a feature moves the score by its contribution", () => {
    const s = score(LEADS[1]!.profile, LEADS[1]!.signals);
    for (const r of s.reasons) {
      const name = r.code.replace("feature.", "");
      const without = sigmoid(
        s.logit -
          (INITIAL_WEIGHTS[name] ?? 0) *
            (extractFeatures({
              profile: LEADS[1]!.profile,
              signals: LEADS[1]!.signals!,
              engagement: {},
              now,
            }).find((f) => f.name === name)?.value ?? 0),
      );
      expect(r.contribution).toBeCloseTo(sigmoid(s.logit) * 100 - without * 100, 0);
    }
  });

  it("is deterministic and lets intent decay with time", () => {
    const a = score(LEADS[1]!.profile, LEADS[1]!.signals);
    const b = score(LEADS[1]!.profile, LEADS[1]!.signals);
    expect(a).toEqual(b);
    const old = score(LEADS[1]!.profile, [
      { kind: "pricing_viewed", occurredAt: hoursAgo(24 * 21) },
    ]);
    expect(old.score).toBeLessThan(a.score - 10);
  });

  it("parses seniority from real titles and forms stable segments", () => {
    const table: [string, string][] = [
      ["Chief Revenue Officer", "c_level"],
      ["CTO", "c_level"],
      ["Co-Founder & CEO", "c_level"],
      ["SVP Engineering", "vp"],
      ["Head of Growth", "vp"],
      ["Senior Director, Finance", "director"],
      ["Engineering Manager", "manager"],
      ["Staff Software Engineer", "individual"],
      ["", "unknown"],
    ];
    for (const [title, level] of table) expect(seniorityOf(title), title).toBe(level);
    expect(segmentOf({ title: "VP Sales", employees: 400 })).toBe("exec-mid");
    expect(segmentOf({ title: "Engineer", employees: 20_000 })).toBe("practitioner-enterprise");
    expect(segmentOf({ title: "Director", employees: undefined })).toBe("manager-smb");
  });

  it("learns online: conversions of a kind of lead raise the score of similar leads", () => {
    const features = extractFeatures({
      profile: LEADS[2]!.profile,
      signals: [],
      engagement: {},
      now,
    });
    let w = { ...INITIAL_WEIGHTS };
    const before = scoreFeatures(features, w).score;
    for (let i = 0; i < 30; i++) w = learn(w, features, 1);
    expect(scoreFeatures(features, w).score).toBeGreaterThan(before + 5);
    // Regularisation keeps weights near the priors: no runaway after many updates.
    for (let i = 0; i < 2_000; i++) w = learn(w, features, 1);
    expect(Math.abs((w.seniority ?? 0) - (INITIAL_WEIGHTS.seniority ?? 0))).toBeLessThan(10);
  });
});
