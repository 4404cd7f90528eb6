// The engine on embedded PGlite with a seeded RNG and a controllable clock.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate, schema } from "@pw/db";
import { asc } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outcome, scored } from "../test/fixtures.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";

let handle: DbHandle;
let clock = new Date("2026-11-24T12:00:00Z");
const now = () => clock;
const requests = async () =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  ).map(
    (r) =>
      r.payload as {
        subject: string;
        data: {
          requestId: string;
          variantId: string;
          subject: string;
          body: string;
          explanation: { summary: string; propensity: number; policy: string };
        };
      },
  );
const arms = () => handle.db.select().from(schema.arms).orderBy(asc(schema.arms.variantId));

describe("experiment engine", () => {
  beforeEach(async () => {
    clock = new Date("2026-11-24T12:00:00Z");
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  it("requests personalised outreach for a hot lead, with its propensity and a plain explanation", async () => {
    const engine = engineBuilder({ db: handle.db, rng: seededRng(1), now });
    expect(await engine.handleScored(scored("l1"))).toBe("requested");
    const [req] = await requests();
    expect(req!.data.body).toContain("Ada");
    expect(req!.data.body + req!.data.subject).not.toMatch(/\{\{|undefined/);
    expect(req!.data.explanation).toMatchObject({ policy: "burn_in", propensity: 0.2 });
    expect(req!.data.explanation.summary).toMatch(/still exploring/);
    expect((await arms()).reduce((n, a) => n + a.exposures, 0)).toBe(1);
  });

  it("does not contact cold, uncontactable or recently contacted leads, and ignores a redelivery", async () => {
    const engine = engineBuilder({ db: handle.db, rng: seededRng(2), now });
    const first = scored("l2");
    expect(await engine.handleScored(first)).toBe("requested");
    expect(await engine.handleScored(first)).toBe("duplicate");
    expect(await engine.handleScored(scored("l2"))).toBe("skipped"); // rescored inside the window
    expect(await engine.handleScored(scored("l3", { tier: "cold" }))).toBe("skipped");
    expect(await engine.handleScored(scored("l4", { contactable: false }))).toBe("skipped");
    expect(await requests()).toHaveLength(1);
  });

  it("counts a reward once, non-response at the end of the window as a failure once, and nothing late", async () => {
    const engine = engineBuilder({ db: handle.db, rng: seededRng(3), now, attributionDays: 14 });
    await engine.handleScored(scored("a"));
    await engine.handleScored(scored("b"));
    const [ra, rb] = await requests();
    const win = outcome("a", "meeting_booked", clock, ra!.data.requestId);
    expect(await engine.handleOutcome(win)).toBe("rewarded");
    expect(await engine.handleOutcome(win)).toBe("duplicate");
    expect(await engine.handleOutcome(outcome("a", "meeting_booked", clock))).toBe("ignored"); // already settled
    expect(await engine.handleOutcome(outcome("b", "opened", clock, rb!.data.requestId))).toBe(
      "ignored",
    ); // not the reward
    clock = new Date(clock.getTime() + 15 * 86_400_000);
    expect(await engine.settleExpired()).toBe(1);
    expect(await engine.settleExpired()).toBe(0);
    expect(
      await engine.handleOutcome(outcome("b", "meeting_booked", clock, rb!.data.requestId)),
    ).toBe("ignored");
    const totals = (await arms()).reduce(
      (t, a) => ({ s: t.s + a.successes, f: t.f + a.failures }),
      { s: 0, f: 0 },
    );
    expect(totals).toEqual({ s: 1, f: 1 });
  });

  it("learns which variant converts in a segment and sends it most of the traffic", async () => {
    const engine = engineBuilder({
      db: handle.db,
      rng: seededRng(4),
      now,
      attributionDays: 1,
      policy: { burnIn: 20 },
    });
    const truth: Record<string, number> = {
      pain_point: 0.05,
      social_proof: 0.05,
      roi: 0.05,
      short_question: 0.05,
      case_study: 0.35,
    };
    const worldRng = seededRng(99);
    let seen = 0;
    for (let day = 0; day < 12; day++) {
      for (let i = 0; i < 50; i++) await engine.handleScored(scored(`lead-${day}-${i}`));
      const reqs = await requests();
      for (const r of reqs.slice(seen)) {
        if (worldRng() < truth[r.data.variantId]!)
          await engine.handleOutcome(outcome(r.subject, "meeting_booked", clock, r.data.requestId));
      }
      seen = reqs.length;
      clock = new Date(clock.getTime() + 2 * 86_400_000);
      await engine.settleExpired();
    }
    const lastDays = (await requests()).slice(-150);
    const share =
      lastDays.filter((r) => r.data.variantId === "case_study").length / lastDays.length;
    expect(share).toBeGreaterThan(0.7);
    expect(lastDays.at(-1)!.data.explanation.summary).toMatch(/P\(best\)|traffic floor/);
  });
});
