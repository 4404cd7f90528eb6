// Sends in flight judged as their likely failures, on the engine's tables (PGlite).
import { type ArmState, DELAY_PRIOR_WEIGHT } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { judgeInFlight } from "./in-flight.ts";

const DAY = 86_400_000;
const now = new Date("2026-11-30T12:00:00Z");
const window = 14 * DAY;
let handle: DbHandle;
let n = 0;

/** `count` requests of one arm sent `ageDays` ago; rewarded after `delayDays`, and closed, if given. */
async function sent(
  variantId: string,
  count: number,
  ageDays: number,
  reward?: { delayDays: number },
) {
  const requestedAt = new Date(now.getTime() - ageDays * DAY);
  await handle.db.insert(schema.decisions).values(
    Array.from({ length: count }, () => ({
      requestId: `req-${n++}`,
      leadId: `lead-${n}`,
      segment: "smb",
      variantId,
      policy: "thompson" as const,
      propensity: 0.5,
      requestedAt,
      ...(reward
        ? {
            settledAt: new Date(requestedAt.getTime() + reward.delayDays * DAY),
            rewarded: true,
            closedAt: new Date(requestedAt.getTime() + window),
          }
        : {}),
    })),
  );
}
const arm = (id: string, successes: number, failures: number): ArmState => ({
  id,
  successes,
  failures,
  exposures: successes + failures,
  status: "active",
});

describe("sends in flight", () => {
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
  });
  afterEach(() => handle.close());

  it("count as the share of a failure their age makes likely, learnt from closed windows", async () => {
    // Closed windows: 80 rewards within a day of their send, 20 on the third day.
    await sent("roi", 80, 30, { delayDays: 0.5 });
    await sent("roi", 20, 30, { delayDays: 2.5 });
    // In flight: 50 roi sends two days old; none for case_study.
    await sent("roi", 50, 2);
    const judged = await judgeInFlight(
      handle.db,
      new Map([["smb", [arm("roi", 10, 90), arm("case_study", 10, 90)]]]),
      now,
      window,
    );
    // F(2.5 days) = (80 + 0.5 × 20 + prior) / (100 + prior): most rewards would be in by now.
    const f = (80 + 0.5 * 20 + DELAY_PRIOR_WEIGHT) / (100 + DELAY_PRIOR_WEIGHT);
    const [roi, caseStudy] = judged.get("smb")!;
    expect(roi!.failures).toBeCloseTo(90 + 50 * f, 6);
    expect(roi!.successes).toBe(10);
    expect(caseStudy!.failures).toBe(90);
  });

  it("with no closed window yet, a send in flight is judged a failure", async () => {
    await sent("roi", 40, 1);
    const judged = await judgeInFlight(
      handle.db,
      new Map([["smb", [arm("roi", 5, 5)]]]),
      now,
      window,
    );
    expect(judged.get("smb")![0]!.failures).toBeCloseTo(45, 9);
  });

  it("settled or withdrawn requests are not in flight", async () => {
    await sent("roi", 10, 20, { delayDays: 1 }); // rewarded and closed
    await handle.db.insert(schema.decisions).values({
      requestId: "withdrawn",
      leadId: "w",
      segment: "smb",
      variantId: "roi",
      policy: "thompson",
      propensity: 0.5,
      requestedAt: new Date(now.getTime() - DAY),
      state: "not_sent",
    });
    const arms = new Map([["smb", [arm("roi", 5, 5)]]]);
    expect(await judgeInFlight(handle.db, arms, now, window)).toBe(arms);
  });
});
