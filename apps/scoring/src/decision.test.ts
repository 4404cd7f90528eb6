// Pure decisions: when a new score is news, and what an outcome counts and teaches.
import { describe, expect, it } from "vitest";
import { countOutcome, decide, type LeadRow, MATERIAL_DELTA, type Scored } from "./decision.ts";

const now = new Date("2026-04-01T00:00:00Z");
const scored = (over: Partial<Scored> = {}): Scored => ({
  score: 50,
  tier: "warm",
  segment: "exec-mid",
  reasons: [],
  model: { scorer: "builtin", version: "builtin-v1" },
  facts: {},
  contactable: true,
  ...over,
});
const existing: LeadRow = {
  leadId: "l",
  profile: {},
  engagement: {},
  contactable: true,
  score: 50,
  tier: "warm",
  segment: "exec-mid",
  version: 3,
  updatedAt: now,
};
const next = (s: Scored, from: { row?: LeadRow } = { row: existing }) =>
  decide({ leadId: "l", existing: from.row, profile: {}, engagement: {}, scored: s, now });

describe("decide", () => {
  it("emits for a new lead", () => {
    const { row, event } = next(scored(), {});
    expect(event?.data).toMatchObject({ score: 50, scoredAt: now.toISOString() });
    expect(row.version).toBe(1);
  });

  it("keeps the last emitted score for a small move, and emits at the threshold", () => {
    const small = next(scored({ score: 50 + MATERIAL_DELTA - 0.1 }));
    expect(small.event).toBeUndefined();
    expect(small.row).toMatchObject({ score: 50, version: 4 });
    expect(next(scored({ score: 50 + MATERIAL_DELTA })).event?.data).toMatchObject({
      previous: { score: 50, tier: "warm", segment: "exec-mid" },
    });
  });

  it("emits when contactability changes, whatever the score", () => {
    expect(next(scored({ contactable: false })).event).toBeDefined();
  });
});

describe("outcomes", () => {
  it("count one more of their kind, except a soft bounce", () => {
    const data = { occurredAt: now.toISOString() };
    expect(countOutcome({ opened: 1 }, { ...data, outcome: "opened" })).toEqual({ opened: 2 });
    expect(countOutcome({}, { ...data, outcome: "bounced", bounceType: "soft" })).toEqual({});
    expect(countOutcome({}, { ...data, outcome: "bounced", bounceType: "hard" })).toEqual({
      bounced: 1,
    });
  });
});
