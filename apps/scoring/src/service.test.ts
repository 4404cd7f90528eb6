// The scoring service on embedded PGlite: profile merging, material changes,
// idempotency, labels from settlements, refits that must win, rollback, and stackAI fallback.
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { createStackAiClient } from "@pw/stackai";
import { startStackAiServer } from "@pw/stackai/test-server";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { crmEvent, marketLead, outcomeEvent, settledEvent, signalEvent } from "../test/fixtures.ts";
import { pruneExamples } from "./labels.ts";
import { activeModel, ensureInitialModel, rollbackModel } from "./model-store.ts";
import { scoringServiceBuilder } from "./service.ts";
import { createStackAiScorer } from "./stackai-scorer.ts";

const T = (h: number) => new Date(Date.UTC(2026, 10, 24, 12) - h * 3_600_000).toISOString();
const now = () => new Date(Date.UTC(2026, 10, 24, 12));
let handle: DbHandle;

async function fresh() {
  handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  await ensureInitialModel(handle.db);
  return scoringServiceBuilder({ db: handle.db, now });
}
/** What the outbox holds for `topic` (lead.scored.v1 unless told). */
const emitted = async (topic: string = Topics.leadScored) =>
  (
    await handle.db
      .select()
      .from(schema.scoringOutbox)
      .where(eq(schema.scoringOutbox.topic, topic))
      .orderBy(asc(schema.scoringOutbox.id))
  ).map((r) => r.payload as { subject: string; data: Record<string, unknown> });
const lead = async (id: string) =>
  (await handle.db.select().from(schema.leads).where(eq(schema.leads.leadId, id)))[0]!;

describe("scoring service", () => {
  afterAll(() => handle?.close());
  let service: Awaited<ReturnType<typeof fresh>>;
  beforeEach(async () => {
    await handle?.close();
    service = await fresh();
  });

  it("scores a new lead with reasons and facts, and emits lead.scored.v1 once", async () => {
    expect(
      await service.handleLeadEvent(
        crmEvent("l1", T(5), {
          firstName: "Ada",
          title: "VP Engineering",
          company: "Acme",
          industry: "SaaS",
          employees: 400,
          email: "ada@acme.io",
        }),
      ),
    ).toBe("emitted");
    expect(await service.handleLeadEvent(signalEvent("l1", "demo_requested", T(1)))).toBe(
      "emitted",
    );
    const [first, second] = await emitted();
    expect(first!.data).toMatchObject({
      tier: "warm",
      segment: "exec-mid",
      model: { scorer: "builtin", version: "builtin-v1" },
      contactable: true,
    });
    expect(second!.data).toMatchObject({
      tier: "hot",
      facts: {
        firstName: "Ada",
        company: "Acme",
        role: "VP Engineering",
        trigger: "requested a demo",
      },
      previous: { tier: "warm" },
    });
    expect((second!.data.reasons as { code: string }[])[0]!.code).toBe("feature.intent");
  });

  it("does not emit for an immaterial change, and a redelivered event changes nothing twice", async () => {
    await service.handleLeadEvent(
      crmEvent("l2", T(5), { title: "Engineer", industry: "Food", employees: 5 }),
    );
    const pageView = signalEvent("l2", "page_viewed", T(200));
    expect(await service.handleLeadEvent(pageView)).toBe("unchanged");
    expect(await service.handleLeadEvent(pageView)).toBe("duplicate");
    expect(await emitted()).toHaveLength(1);
    expect((await lead("l2")).version).toBe(2);
  });

  it("never lets an older event overwrite newer data (order by occurredAt, not arrival)", async () => {
    await service.handleLeadEvent(crmEvent("l3", T(1), { title: "CTO", company: "NewCo" }));
    await service.handleLeadEvent(
      crmEvent("l3", T(48), { title: "Engineer", company: "OldCo", industry: "SaaS" }),
    );
    const { profile } = await lead("l3");
    expect(profile.title?.value).toBe("CTO");
    expect(profile.company?.value).toBe("NewCo");
    expect(profile.industry?.value).toBe("SaaS"); // fields the newer event did not carry still merge in
  });

  it("an unsubscribe makes the lead uncontactable and says so", async () => {
    await service.handleLeadEvent(
      crmEvent("l4", T(5), { title: "CEO", industry: "SaaS", employees: 300 }),
    );
    expect(await service.handleOutcome(outcomeEvent("l4", "unsubscribed", T(0)))).toBe("emitted");
    const last = (await emitted()).at(-1)!;
    expect(last.data).toMatchObject({ contactable: false, tier: "cold" });
  });

  it("keeps each emitted score's features and labels the one a send was decided on: reward 1, silence 0, a hard bounce none", async () => {
    await service.handleLeadEvent(
      crmEvent("l5", T(5), { title: "Director", industry: "SaaS", employees: 300 }),
    );
    await service.handleLeadEvent(signalEvent("l5", "demo_requested", T(4)));
    const kept = await handle.db
      .select()
      .from(schema.examples)
      .orderBy(asc(schema.examples.scoredAt));
    const scores = await emitted();
    expect(kept.map((k) => k.scoredEventId).sort()).toEqual(
      scores.map((e) => (e as unknown as { id: string }).id).sort(),
    );
    const first = kept.find((k) => k.features.intent === 0)!;
    const second = kept.find((k) => (k.features.intent ?? 0) > 0)!;
    expect(first.predicted).toBeCloseTo((scores[0]!.data.score as number) / 100, 3);
    // Sent on the first score; meanwhile the lead requested a demo. The label goes to the
    // features the engine decided on, not to what the lead looks like at settlement.
    const settle = settledEvent("l5", first.scoredEventId, true, T(3));
    expect(await service.handleSettlement(settle)).toBe("labelled");
    expect(await service.handleSettlement(settle)).toBe("duplicate");
    const labels = async () =>
      Object.fromEntries(
        (await handle.db.select().from(schema.examples)).map((e) => [e.scoredEventId, e.label]),
      );
    expect(await labels()).toEqual({ [first.scoredEventId]: 1, [second.scoredEventId]: null });
    // A conversion is news about the lead, but it teaches the model nothing by itself: no new
    // version, no lock on the model (the settlement carries the label).
    await service.handleOutcome(outcomeEvent("l5", "converted", T(0)));
    expect((await activeModel(handle.db)).version).toBe(1);

    // Silence until the window closed is a negative; a send without the scored event id is
    // matched to the lead's last score before it was requested.
    await service.handleLeadEvent(crmEvent("l6", T(30), { title: "CEO", employees: 80 }));
    expect(await service.handleSettlement(settledEvent("l6", undefined, false, T(-1)))).toBe(
      "labelled",
    );
    // Scored again after the send: that score is not the one the send was decided on.
    await service.handleLeadEvent(signalEvent("l6", "pricing_viewed", T(0)));
    const l6 = await handle.db
      .select()
      .from(schema.examples)
      .where(eq(schema.examples.leadId, "l6"));
    expect(l6.map((e) => [e.features.intent === 0, e.label]).sort()).toEqual([
      [false, null],
      [true, 0],
    ]);
    // A hard bounce: nobody read the message, so it says nothing about the lead.
    await service.handleLeadEvent(crmEvent("l7", T(30), { title: "CTO", employees: 300 }));
    const [l7] = await handle.db
      .select()
      .from(schema.examples)
      .where(eq(schema.examples.leadId, "l7"));
    await service.handleOutcome({
      ...outcomeEvent("l7", "bounced", T(2)),
      data: { outcome: "bounced", bounceType: "hard", occurredAt: T(2) },
    } as Parameters<typeof service.handleOutcome>[0]);
    expect(await service.handleSettlement(settledEvent("l7", l7!.scoredEventId, false, T(3)))).toBe(
      "ignored",
    );
    expect((await labels())[l7!.scoredEventId]).toBeNull();
    // A lead never contacted is never labelled.
    expect(Object.values(await labels()).filter((l) => l !== null)).toHaveLength(2);
    // Kept while a settlement may still come or a refit may still read them.
    expect(await pruneExamples(handle.db, now())).toBe(0);
    const later = (days: number) => new Date(now().getTime() + days * 86_400_000);
    // Past any window, the unlabelled ones go; half a year on, the labelled ones.
    const unlabelled = Object.values(await labels()).filter((l) => l === null).length;
    expect(await pruneExamples(handle.db, later(46))).toBe(unlabelled);
    expect(await pruneExamples(handle.db, later(181))).toBe(2);
    expect(await labels()).toEqual({});
  });

  it("refits on settled sends: a better model is promoted, calibrated; a poisoned batch is not; any version can be rolled back to", {
    timeout: 120_000,
  }, async () => {
    let clock = new Date(Date.UTC(2026, 10, 24, 12));
    const refitting = scoringServiceBuilder({
      db: handle.db,
      now: () => clock,
      refit: {
        everyLabels: 500,
        checkEveryMs: 60_000,
        maxExamples: 20_000,
        holdoutFraction: 0.2,
        l2: 2,
      },
    });
    /** Leads of the market scored, contacted and settled (labels from `marketLead`). */
    async function market(from: number, to: number, o: { prefix: string; flip?: boolean }) {
      const leads = [];
      for (let i = from; i < to; i++) leads.push(marketLead(i, o));
      for (let k = 0; k < leads.length; k += 200)
        await refitting.handleLeadEvents(
          leads.slice(k, k + 200).map((l) => crmEvent(l.leadId, clock.toISOString(), l.profile)),
        );
      const ids = new Map(
        (await handle.db.select().from(schema.examples)).map((e) => [e.leadId, e.scoredEventId]),
      );
      clock = new Date(clock.getTime() + 60_000);
      const settled = leads.map((l) =>
        settledEvent(l.leadId, ids.get(l.leadId)!, l.rewarded, clock.toISOString()),
      );
      for (let k = 0; k < settled.length; k += 500)
        await refitting.handleSettlements(settled.slice(k, k + 500));
      clock = new Date(clock.getTime() + 60_000);
    }
    const directorNow = async (id: string) => {
      await refitting.handleLeadEvent(
        crmEvent(id, clock.toISOString(), {
          title: "Director of Sales",
          industry: "SaaS",
          employees: 300,
        }),
      );
      return (await emitted()).filter((e) => e.subject === id).at(-1)!.data as {
        score: number;
        tier: string;
        model: { version: string };
      };
    };
    const underPriors = await directorNow("before");
    expect(underPriors.score).toBeGreaterThan(50); // the priors think directors convert often

    await market(0, 400, { prefix: "a" });
    expect(await refitting.refitIfDue()).toEqual({ outcome: "not_due", labels: 400 });
    await market(400, 2_000, { prefix: "a" });
    const promoted = await refitting.refitIfDue();
    expect(promoted).toMatchObject({ outcome: "promoted", version: 2 });
    if (promoted.outcome !== "promoted") throw new Error("unreachable");
    const h = promoted.holdout;
    expect(h.trainedOn).toBe(1_600);
    expect(h.candidate.n).toBe(400);
    expect(h.candidate.logLoss).toBeLessThan(h.previous.logLoss);
    expect(h.candidate.ece).toBeLessThan(0.05);
    expect(h.previous.ece).toBeGreaterThan(0.2);
    expect(promoted.verdict).toMatch(/^candidate log-loss .* < active .* on 400 recent labels/);
    // Calibrated: a director now scores about the 1 in 5 the market shows, and the tiers are
    // percentiles of what was scored (half the leads are directors: the top tenth is hot).
    const underRefit = await directorNow("after");
    expect(underRefit.model.version).toBe("builtin-v2");
    expect(underRefit.score).toBeGreaterThan(15);
    expect(underRefit.score).toBeLessThan(25);
    expect(underRefit.tier).toBe("hot");
    const [v2] = await handle.db
      .select()
      .from(schema.modelVersions)
      .where(eq(schema.modelVersions.version, 2));
    expect(v2).toMatchObject({ active: true, cause: "refit" });
    expect(v2!.tiers?.basis).toMatch(/^percentiles of \d/);

    // A poisoned batch (outcomes reported the wrong way round), then honest labels again:
    // the candidate trained on it loses to the active version on the newest labels.
    await market(0, 1_000, { prefix: "p", flip: true });
    await market(0, 800, { prefix: "c" });
    const poisoned = await refitting.refitIfDue();
    expect(poisoned).toMatchObject({ outcome: "rejected", version: 3 });
    if (poisoned.outcome !== "rejected") throw new Error("unreachable");
    expect(poisoned.verdict).toMatch(/^not promoted: /);
    expect(poisoned.holdout.candidate.logLoss).toBeGreaterThan(poisoned.holdout.previous.logLoss);
    expect((await activeModel(handle.db)).version).toBe(2);
    expect((await directorNow("still")).model.version).toBe("builtin-v2");
    // Nothing new labelled: no refit.
    expect(await refitting.refitIfDue()).toEqual({ outcome: "not_due", labels: 0 });

    // Every version keeps its figures; a rollback may pick any, the rejected one included.
    const history = await handle.db
      .select()
      .from(schema.modelVersions)
      .orderBy(asc(schema.modelVersions.version));
    expect(history.map((v) => [v.version, v.active, v.cause, v.holdout !== null])).toEqual([
      [1, false, "initial", false],
      [2, true, "refit", true],
      [3, false, "rejected", true],
    ]);
    expect(await rollbackModel(handle.db, 1)).toBe(4);
    expect((await activeModel(handle.db)).weights).toEqual(history[0]!.weights);
    const announced = (await emitted(Topics.modelUpdates)).map((e) => [
      (e as unknown as { type: string }).type,
      e.data.version,
    ]);
    expect(announced).toEqual([
      ["model.version_activated.v1", 1],
      ["model.version_activated.v1", 2],
      ["model.candidate_rejected.v1", 3],
      ["model.version_activated.v1", 4],
    ]);
  });

  it("a batch in one transaction has exactly the effects of the same events one by one", async () => {
    const events = [
      crmEvent("b1", T(50), { title: "Engineer", industry: "SaaS", employees: 300 }),
      crmEvent("b2", T(40), { title: "CTO", industry: "Fintech", employees: 800 }),
      signalEvent("b1", "pricing_viewed", T(3)),
      crmEvent("b1", T(60), { title: "Intern" }), // stale: must not win
      signalEvent("b2", "page_viewed", T(2)),
      signalEvent("b1", "demo_requested", T(1)),
      crmEvent("b3", T(5), { title: "VP Sales", employees: 50 }),
      // Stored, but older than the signal window: one by one it is never read back.
      signalEvent("b4", "pricing_viewed", T(24 * 100)),
    ];
    const withDuplicates = [...events, events[2]!, events[0]!];
    const oneByOne: string[] = [];
    for (const e of withDuplicates) oneByOne.push(await service.handleLeadEvent(e));
    const rowsA = await handle.db.select().from(schema.leads).orderBy(asc(schema.leads.leadId));
    const emittedA = (await emitted()).map((e) => [e.subject, e.data]);

    await handle.close();
    service = await fresh();
    const batched = await service.handleLeadEvents(withDuplicates);
    const rowsB = await handle.db.select().from(schema.leads).orderBy(asc(schema.leads.leadId));
    const emittedB = (await emitted()).map((e) => [e.subject, e.data]);

    expect(batched).toEqual(oneByOne);
    expect(emittedB).toEqual(emittedA);
    const strip = (rows: typeof rowsA) => rows.map(({ updatedAt: _u, ...r }) => r);
    expect(strip(rowsB)).toEqual(strip(rowsA));
    expect(rowsB.find((r) => r.leadId === "b1")!.profile.title?.value).toBe("Engineer");
  });

  it("a batch of outcomes has exactly the effects of the same outcomes one by one", async () => {
    const leads = [
      crmEvent("o1", T(50), { title: "VP Sales", industry: "SaaS", employees: 300 }),
      crmEvent("o2", T(40), { title: "Engineer", industry: "Retail", employees: 20 }),
    ];
    const outcomes = [
      outcomeEvent("o1", "opened", T(3)),
      outcomeEvent("o1", "clicked", T(2)),
      outcomeEvent("o2", "replied", T(2)),
      outcomeEvent("o1", "unsubscribed", T(1)), // the second change to o1 in the batch
      outcomeEvent("o3", "opened", T(1)), // a lead scoring has not seen yet
    ];
    const withDuplicates = [...outcomes, outcomes[1]!];
    const run = async (batched: boolean) => {
      await handle?.close();
      service = await fresh();
      await service.handleLeadEvents(leads);
      const results: string[] = [];
      if (batched) results.push(...(await service.handleOutcomes(withDuplicates)));
      else for (const e of withDuplicates) results.push(await service.handleOutcome(e));
      const rows = (
        await handle.db.select().from(schema.leads).orderBy(asc(schema.leads.leadId))
      ).map(({ updatedAt: _u, ...r }) => r);
      return { results, rows, scores: (await emitted()).map((e) => [e.subject, e.data]) };
    };
    const oneByOne = await run(false);
    const batched = await run(true);
    expect(batched).toEqual(oneByOne);
    expect(oneByOne.results.at(-1)).toBe("duplicate");
    const o1 = batched.rows.find((r) => r.leadId === "o1")!;
    expect(o1.engagement).toEqual({ opened: 1, clicked: 1, unsubscribed: 1 });
    expect(o1.contactable).toBe(false);
  });

  it("falls back to the built-in model when stackAI fails, recording why", async () => {
    const vendor = await startStackAiServer();
    vendor.reply({ status: 500 });
    const client = createStackAiClient(vendor.options("scoring", { maxRetries: 0 }));
    const stackai = createStackAiScorer(client);
    const withVendor = scoringServiceBuilder({ db: handle.db, now, stackai });
    await withVendor.handleLeadEvent(
      crmEvent("l6", T(5), { title: "CFO", industry: "Fintech", employees: 900 }),
    );
    const last = (await emitted()).at(-1)!;
    expect(last.data.model).toMatchObject({
      scorer: "builtin",
      fallbackReason: expect.stringContaining("stackAI http_500"),
    });
    await client.close();
    await vendor.close();
  });
});
