// The projection on embedded PGlite: each topic into the lead queue and the arms, the
// status that never moves backwards whatever order the topics arrive in, duplicates,
// reply text never stored, pruning, and the subscriptions on the in-process bus.
import { createMemoryBus, publishEvents } from "@pw/bus";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { armView, leadView, streamEvents } from "@pw/db/gateway";
import { ALL_TOPICS, envelope, OPS_TOPICS, type TopicName } from "@pw/events";
import { createLogger } from "@pw/logger";
import { runService } from "@pw/service";
import { waitFor } from "@pw/testkit";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  at,
  crm,
  dispatched,
  optedOut,
  outcome,
  requested,
  resetReadTables,
  scored,
  snapshot,
  statusChanged,
} from "../../test/read-fixtures.ts";
import type { StreamRow } from "./index.ts";
import { createLiveHub, readModel } from "./index.ts";

const silent = createLogger({ service: "gateway-test", level: "silent" });
const NOW = new Date(Date.UTC(2026, 10, 24, 13));

describe("read model projection", () => {
  let handle: DbHandle;
  let published: StreamRow[];
  let model: ReturnType<typeof readModel>;
  beforeAll(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
  }, 120_000);
  afterAll(() => handle.close());
  beforeEach(async () => {
    await resetReadTables(handle.db);
    published = [];
    const hub = createLiveHub({ db: handle.db, logger: silent });
    model = readModel({
      db: handle.db,
      logger: silent,
      hub: { ...hub, publish: (row) => void published.push(row) },
      now: () => NOW,
    });
  });

  const lead = async (id: string) =>
    (await handle.db.select().from(leadView).where(eq(leadView.leadId, id)))[0];
  const arms = () =>
    handle.db.select().from(armView).orderBy(asc(armView.segment), asc(armView.variantId));
  const stored = () => handle.db.select().from(streamEvents).orderBy(asc(streamEvents.seq));

  it("builds the lead from CRM changes (latest change per field by when it happened), scores and outreach", async () => {
    expect(
      await model.handle(
        "lead.events.v1",
        crm(
          "l1",
          { firstName: "Ada", lastName: "Lovelace", company: "Acme", email: "ada@acme.io" },
          at(2),
        ),
      ),
    ).toBe("projected");
    expect(await lead("l1")).toMatchObject({
      name: "Ada Lovelace",
      company: "Acme",
      email: "ada@acme.io",
      status: "new",
      updatedAt: NOW,
    });
    // An older change arriving late does not overwrite a newer one; a new field still counts.
    await model.handle(
      "lead.events.v1",
      crm("l1", { company: "Old Co", lastName: "Byron" }, at(1)),
    );
    await model.handle("lead.events.v1", crm("l1", { lastName: "King" }, at(3)));
    expect(await lead("l1")).toMatchObject({ name: "Ada King", company: "Acme" });

    await model.handle(
      "lead.scored.v1",
      scored("l1", { score: 82, tier: "hot", segment: "vp_mid" }),
    );
    expect(await lead("l1")).toMatchObject({
      score: 82,
      tier: "hot",
      segment: "vp_mid",
      status: "scored",
    });
    expect((await lead("l1"))!.reasons.map((r) => r.code)).toEqual([
      "intent.pricing_viewed",
      "seniority.vp",
      "recency.stale",
    ]);
    // A rescoring that happened earlier but arrives later keeps the newer score.
    await model.handle(
      "lead.scored.v1",
      scored("l1", { score: 40, tier: "cold", scoredAt: at(0) }),
    );
    expect(await lead("l1")).toMatchObject({ score: 82, tier: "hot" });

    await model.handle("outreach.requested.v1", requested("l1", { priority: 71.6 }));
    expect(await lead("l1")).toMatchObject({ status: "requested", priority: 72 });
    await model.handle("outreach.dispatched.v1", dispatched("l1", { status: "deferred" }));
    expect((await lead("l1"))!.status).toBe("requested");
    await model.handle("outreach.dispatched.v1", dispatched("l1", { status: "sent" }));
    expect((await lead("l1"))!.status).toBe("contacted");
    for (const kind of ["delivered", "opened", "replied"])
      await model.handle("outreach.outcomes.v1", outcome("l1", kind));
    expect((await lead("l1"))!.status).toBe("replied");
    await model.handle("outreach.outcomes.v1", outcome("l1", "meeting_booked"));
    await model.handle("outreach.outcomes.v1", outcome("l1", "converted"));
    expect((await lead("l1"))!.status).toBe("converted");
    expect(published.map((r) => r.seq)).toEqual((await stored()).map((r) => Number(r.seq)));
  });

  it("never moves a status backwards, whatever order the topics arrive in; an opt-out wins", async () => {
    await model.handle("outreach.outcomes.v1", outcome("l2", "converted"));
    await model.handle("outreach.dispatched.v1", dispatched("l2"));
    await model.handle("outreach.requested.v1", requested("l2"));
    await model.handle("lead.scored.v1", scored("l2"));
    await model.handle("lead.events.v1", crm("l2", { firstName: "Grace" }));
    expect(await lead("l2")).toMatchObject({
      status: "converted",
      name: "Grace",
      score: 80,
      priority: 70,
    });

    await model.handle("outreach.outcomes.v1", outcome("l3", "replied"));
    await model.handle("lead.consent.v1", optedOut("l3"));
    await model.handle("outreach.outcomes.v1", outcome("l3", "converted"));
    await model.handle("lead.scored.v1", scored("l3"));
    expect((await lead("l3"))!.status).toBe("opted_out");

    await model.handle("outreach.outcomes.v1", outcome("l4", "bounced", { bounceType: "soft" }));
    expect((await lead("l4"))!.status).toBe("new");
    await model.handle("outreach.outcomes.v1", outcome("l4", "bounced", { bounceType: "hard" }));
    expect((await lead("l4"))!.status).toBe("opted_out");
    await model.handle("outreach.outcomes.v1", outcome("l5", "unsubscribed"));
    expect((await lead("l5"))!.status).toBe("opted_out");
  });

  it("a redelivered event is a duplicate: nothing stored twice, nothing published twice", async () => {
    const event = scored("d1", { score: 55 });
    expect(await model.handle("lead.scored.v1", event)).toBe("projected");
    await model.handle("outreach.outcomes.v1", outcome("d1", "replied"));
    expect(await model.handle("lead.scored.v1", event)).toBe("duplicate");
    expect(
      await model.handleMany("lead.scored.v1", [
        scored("d2", {}, { id: "same" }),
        scored("d2", {}, { id: "same" }),
      ]),
    ).toEqual(["projected", "duplicate"]);
    expect(await stored()).toHaveLength(3);
    expect(published).toHaveLength(3);
    expect((await lead("d1"))!.status).toBe("replied");
  });

  it("never stores reply text (nor an unknown outcome's raw payload)", async () => {
    const secret = "Please call me on +44 7700 900123, my wife is ill";
    await model.handle("outreach.outcomes.v1", outcome("r1", "replied", { replyText: secret }));
    await model.handle(
      "outreach.outcomes.v1",
      envelope({
        type: "outreach.unknown_outcome.v1",
        source: "pw://ingest",
        subject: "r1",
        data: {
          originalType: "reply.received",
          occurredAt: at(5),
          raw: { text: secret, from: "x" },
        },
      }),
    );
    const rows = await stored();
    expect(JSON.stringify(rows)).not.toContain("+44 7700");
    expect(JSON.stringify(published)).not.toContain("+44 7700");
    expect(rows[0]!.data).toMatchObject({ outcome: "replied", requestId: "req_r1" });
    expect(rows[1]!.data).toMatchObject({
      originalType: "reply.received",
      rawKeys: ["text", "from"],
    });
  });

  it("keeps each arm's standing from snapshots and status changes, never from an older event", async () => {
    await model.handle(
      "experiment.updates.v1",
      snapshot(
        "vp_mid",
        [
          { variantId: "roi", exposures: 100, successes: 2, pBest: 0.04 },
          { variantId: "story", exposures: 120, successes: 9, pBest: 0.96 },
        ],
        at(10),
      ),
    );
    await model.handle(
      "experiment.updates.v1",
      statusChanged("vp_mid", "roi", "active", "suppressed", "P(best) 4% after 100 sends", at(11)),
    );
    expect(await arms()).toMatchObject([
      {
        segment: "vp_mid",
        variantId: "roi",
        exposures: 100,
        successes: 2,
        status: "suppressed",
        statusReason: "P(best) 4% after 100 sends",
      },
      { segment: "vp_mid", variantId: "story", exposures: 120, successes: 9, status: "active" },
    ]);
    expect((await arms())[1]!.pBest).toBeCloseTo(0.96, 5);
    // An older snapshot arriving late changes nothing.
    await model.handle(
      "experiment.updates.v1",
      snapshot("vp_mid", [{ variantId: "roi", exposures: 50, successes: 1, pBest: 0.3 }], at(5)),
    );
    expect((await arms())[0]).toMatchObject({ exposures: 100, status: "suppressed" });
    // A newer snapshot that keeps the status keeps its reason; a revival replaces it.
    await model.handle(
      "experiment.updates.v1",
      snapshot(
        "vp_mid",
        [{ variantId: "roi", exposures: 101, successes: 2, pBest: 0.03, status: "suppressed" }],
        at(12),
      ),
    );
    expect((await arms())[0]).toMatchObject({
      exposures: 101,
      statusReason: "P(best) 4% after 100 sends",
    });
    await model.handle(
      "experiment.updates.v1",
      statusChanged("vp_mid", "roi", "suppressed", "active", "revived by ada", at(13), "operator"),
    );
    expect((await arms())[0]).toMatchObject({ status: "active", statusReason: "revived by ada" });
  });

  it("refuses an event that does not match its topic's schema (the subscription parks it in the DLQ)", async () => {
    await expect(
      model.handle("lead.scored.v1", { id: "bad", type: "lead.scored.v1" }),
    ).rejects.toThrow(/invalid lead.scored.v1 event bad/);
    expect(await model.handle("lead.scored.v1.dlq" as TopicName, scored("x"))).toBe("ignored");
    expect(await stored()).toHaveLength(0);
  });

  it("prunes stream events older than a date and keeps the rest of the journey", async () => {
    await model.handle("lead.scored.v1", scored("p1", {}, { time: "2026-01-01T00:00:00Z" }));
    await model.handle("lead.scored.v1", scored("p1", {}, { time: "2026-01-02T00:00:00Z" }));
    await model.handle("lead.scored.v1", scored("p1", {}, { time: "2026-03-01T00:00:00Z" }));
    expect(await model.prune(new Date("2026-02-01T00:00:00Z"))).toBe(2);
    expect((await stored()).map((r) => r.at.toISOString())).toEqual(["2026-03-01T00:00:00.000Z"]);
  });

  it("subscribes to every topic with the kit as group gateway and projects what the bus delivers", async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
    const groups: string[] = [];
    const service = await runService({
      name: "gateway",
      config: parseConfig(ServiceBaseConfig(0), { PORT: "0" }),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: async (kit) => {
        await model.subscribeAll({
          subscribe: (spec) => {
            groups.push(`${spec.topic}:${spec.groupId}`);
            return kit.subscribe(spec);
          },
        });
        return {};
      },
    });
    try {
      expect(groups.sort()).toEqual(
        ALL_TOPICS.filter((t) => !OPS_TOPICS.includes(t))
          .map((t) => `${t}:gateway`)
          .sort(),
      );
      await publishEvents(bus, "lead.scored.v1", [scored("b1") as never]);
      await publishEvents(bus, "outreach.outcomes.v1", [outcome("b1", "replied") as never]);
      await waitFor(async () => (await lead("b1"))?.status === "replied", {
        message: "projected from the bus",
      });
    } finally {
      await service.stop();
      await bus.close();
    }
  });
});
