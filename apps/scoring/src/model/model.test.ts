import { describe, expect, it } from "vitest";
import { INITIAL_WEIGHTS, scoreFeatures, sigmoid, tierOf } from "./builtin.ts";
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

  it("reasons add up: the baseline plus every contribution is the score, signs kept", () => {
    for (const lead of LEADS) {
      const s = score(lead.profile, lead.signals, lead.engagement);
      const total = s.reasons.reduce((n, r) => n + r.contribution, 0);
      // Each reason is rounded to 0.1 point: the sum is within that many tenths.
      expect(Math.abs(total - s.score), lead.name).toBeLessThanOrEqual(0.05 * s.reasons.length);
      const baseline = s.reasons.find((r) => r.code === "model.baseline");
      expect(baseline?.contribution).toBeCloseTo(sigmoid(INITIAL_WEIGHTS.bias ?? 0) * 100, 1);
      for (const r of s.reasons.filter((r) => r.code.startsWith("feature."))) {
        const name = r.code.replace("feature.", "");
        const value =
          extractFeatures({
            profile: lead.profile,
            signals: lead.signals ?? [],
            engagement: lead.engagement ?? {},
            now,
          }).find((f) => f.name === name)?.value ?? 0;
        // A feature that pushes the logit up adds points, one that pulls it down removes them.
        expect(Math.sign(r.contribution), `${lead.name}: ${name}`).toBe(
          Math.sign((INITIAL_WEIGHTS[name] ?? 0) * value),
        );
      }
    }
  });

  it("the tier follows the version's cut-offs: the same lead, other cut-offs, other tier", () => {
    const s = score(LEADS[1]!.profile, LEADS[1]!.signals);
    const p = s.probability;
    expect(tierOf(p, { hot: p, warm: p / 2, basis: "t" })).toBe("hot");
    expect(tierOf(p, { hot: p + 0.01, warm: p, basis: "t" })).toBe("warm");
    expect(tierOf(p, { hot: 0.99, warm: p + 0.001, basis: "t" })).toBe("cold");
    const stricter = scoreFeatures(
      extractFeatures({
        profile: LEADS[1]!.profile,
        signals: LEADS[1]!.signals!,
        engagement: {},
        now,
      }),
      INITIAL_WEIGHTS,
      { hot: 0.999, warm: 0.998, basis: "t" },
    );
    expect(stricter.score).toBe(s.score);
    expect(stricter.tier).toBe("cold");
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
});
