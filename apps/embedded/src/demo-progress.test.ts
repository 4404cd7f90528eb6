import { describe, expect, it } from "vitest";
import { describeTally, type Tally } from "./demo-progress.ts";

const tally = (o: Partial<Tally> = {}): Tally => ({
  scored: new Set(),
  sent: 0,
  followUps: 0,
  outcomes: {},
  suppressed: 0,
  paused: 0,
  ...o,
});

describe("the demo's running tally", () => {
  it("puts each noun in the number its count asks for", () => {
    const line = describeTally(
      tally({
        scored: new Set(["a"]),
        sent: 1,
        followUps: 1,
        outcomes: { replied: 1, meeting_booked: 1, converted: 1, bounced: 1, unsubscribed: 1 },
        suppressed: 1,
      }),
    );
    expect(line).toContain("1 lead scored");
    expect(line).toContain("1 first touch sent (+1 follow-up)");
    expect(line).toContain("1 reply ·");
    expect(line).toContain("1 meeting ·");
    expect(line).toContain("1 conversion ·");
    expect(line).toContain("1 bounce ·");
    expect(line).toContain("1 unsubscribe ·");
    expect(line).toContain("1 variant suppressed");
  });

  it("counts what the recipients and the engine did", () => {
    const line = describeTally(
      tally({
        scored: new Set(["a", "b", "c"]),
        sent: 3,
        followUps: 2,
        outcomes: { opened: 2, replied: 0, converted: 2 },
        paused: 1,
      }),
    );
    expect(line).toBe(
      "3 leads scored · 3 first touches sent (+2 follow-ups) · 2 opened · 0 replies · " +
        "0 meetings · 2 conversions · 0 bounces · 0 unsubscribes · 0 variants suppressed · " +
        "1 paused by a guardrail",
    );
  });
});
