// The scoring service on embedded PGlite: profile merging, material changes,
// idempotency, learning and rollback, and stackAI fallback.
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { createStackAiClient } from "@pw/stackai";
import { startStackAiServer } from "@pw/stackai/test-server";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { crmEvent, outcomeEvent, signalEvent } from "../test/fixtures.ts";
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

  it("learns from a conversion as a new model version, and rolls back", async () => {
    await service.handleLeadEvent(
      crmEvent("l5", T(5), { title: "Director", industry: "SaaS", employees: 300 }),
    );
    await service.handleOutcome(outcomeEvent("l5", "converted", T(0)));
    const after = await activeModel(handle.db);
    expect(after.version).toBe(2);
    expect(after.weights.seniority).toBeGreaterThan(1.4);
    const rolled = await rollbackModel(handle.db, 1);
    expect(rolled).toBe(3);
    expect((await activeModel(handle.db)).weights.seniority).toBe(1.4);
    const history = await handle.db
      .select()
      .from(schema.modelVersions)
      .orderBy(asc(schema.modelVersions.version));
    expect(history.map((h) => [h.version, h.active, h.reason.split(" (")[0]])).toEqual([
      [1, false, "initial priors"],
      [2, false, "online update from converted"],
      [3, true, "rollback to v1"],
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
