// Scoring on a real Kafka broker and a real PostgreSQL, started as `main` starts it:
// events in → scores out, duplicates and out-of-order events, a consumer that dies
// mid-batch, and relayed events that carry the same headers as a direct publish.
import { createKafkaBus, type IncomingMessage, publishEvents, toMessage } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { ALL_TOPICS, type LeadEvent, type LeadScored, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { kafkaFixture, postgresFixture, type TestDatabase, waitFor } from "@pw/testkit";
import { desc, eq, isNotNull, isNull, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crmEvent, marketLead, settledEvent } from "../test/fixtures.ts";
import { scoringConfig } from "./config.ts";
import { startScoring } from "./start.ts";

/** The outbox's lead.scored.v1 rows (the initial model version is announced there too). */
const scoredRows = eq(schema.scoringOutbox.topic, Topics.leadScored);

const kafka = await kafkaFixture();
const pg = await postgresFixture();

describe.runIf(kafka && pg)("scoring on real services", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  const scored: { key: string; id: string; tier: string }[] = [];
  const raw: IncomingMessage[] = [];
  const config = scoringConfig({ PORT: "0" });
  const logger = createLogger({ service: "scoring-test", level: "silent" });

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_scoring");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    bus = createKafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: `${kafka!.uniqueName("scoring")}.`,
      sessionTimeout: 10_000,
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 4 })));
    await bus.subscribe({
      groupId: "tap",
      topic: Topics.leadScored,
      decode: (v) => v as { id: string; subject: string; data: { tier: string } },
      handler: async (e, ctx) => {
        scored.push({ key: e.subject, id: e.id, tier: e.data.tier });
        raw.push(ctx.message);
      },
    });
  });
  afterAll(async () => {
    const step = (name: string, p: Promise<unknown> | undefined) =>
      Promise.race([
        p,
        new Promise((_, rej) => setTimeout(() => rej(new Error(`${name} hung`)), 15_000)),
      ]);
    await step("bus.close", bus?.close());
    await step("db.close", db?.close());
    await step("drop", database?.drop());
  });

  it("scores every lead exactly once through duplicates, stale events and a consumer killed mid-batch", async () => {
    const leads = 200;
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    const events: LeadEvent[] = [];
    for (let i = 0; i < leads; i++) {
      events.push(
        crmEvent(`lead-${i}`, at(10), {
          firstName: `F${i}`,
          title: i % 3 === 0 ? "VP Sales" : "Engineer",
          industry: "SaaS",
          employees: 300,
        }),
      );
    }
    // Redeliveries (same event id) and a stale update for some leads.
    for (let i = 0; i < 30; i++) events.push(events[i]!);
    for (let i = 0; i < 20; i++) events.push(crmEvent(`lead-${i}`, at(600), { title: "Intern" }));
    // One lead arrives inside a trace (as a webhook with a traceparent would).
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    events.push({
      ...crmEvent("lead-traced", at(5), { title: "CTO", industry: "SaaS" }),
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    await publishEvents(bus, Topics.leadEvents, events);

    let handled = 0;
    let dead = false;
    const hang = () => new Promise<never>(() => {});
    // Member A dies (no commit, no finishing) in the batch that takes it past 80 events.
    const a = await startScoring(config, {
      bus,
      db,
      logger,
      listen: false,
      wrapHandlers: (service) => ({
        handleOutcome: service.handleOutcome,
        handleOutcomes: service.handleOutcomes,
        handleSettlement: service.handleSettlement,
        handleSettlements: service.handleSettlements,
        handleLeadEvents: async (batch) => {
          if (dead) return hang();
          handled += batch.length;
          if (handled >= 80) {
            dead = true;
            void a.crash();
            return hang();
          }
          return service.handleLeadEvents(batch);
        },
        handleLeadEvent: async (e) => {
          if (dead) return hang();
          if (++handled === 80) {
            dead = true;
            void a.crash();
            return hang();
          }
          return service.handleLeadEvent(e);
        },
      }),
    });
    await waitFor(() => dead, { timeoutMs: 60_000, message: "member A to die mid-batch" });

    const b = await startScoring(config, { bus, db, logger, listen: false });
    // Done means: every distinct event handled (inbox), every outbox row relayed, and the
    // tap has read every relayed event. Only then can "nothing extra" be judged.
    const distinct = new Set(events.map((e) => e.id)).size;
    await waitFor(
      async () =>
        (await db.db.$count(schema.scoringInbox)) === distinct &&
        (await db.db.$count(schema.scoringOutbox, isNull(schema.scoringOutbox.publishedAt))) ===
          0 &&
        new Set(scored.map((s) => s.id)).size ===
          (await db.db.$count(schema.scoringOutbox, scoredRows)),
      { timeoutMs: 120_000, intervalMs: 250, message: "every event handled, relayed and read" },
    );
    await b.stop();

    const perLead = new Map<string, Set<string>>();
    for (const s of scored) perLead.set(s.key, (perLead.get(s.key) ?? new Set()).add(s.id));
    expect(perLead.size).toBe(leads + 1);
    expect([...perLead.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(await db.db.$count(schema.scoringOutbox, scoredRows)).toBe(leads + 1);
    // The stale "Intern" updates did not overwrite the newer titles.
    const [row] = await db.db
      .select()
      .from(schema.leads)
      .where((await import("drizzle-orm")).eq(schema.leads.leadId, "lead-0"));
    expect(row!.profile.title?.value).toBe("VP Sales");
    expect(scored.find((s) => s.key === "lead-0")?.tier).toBe("warm");

    // A relayed lead.scored.v1 carries exactly the headers of a direct publish, and the
    // lead's trace continues (same trace id, a new span).
    const relayed = raw.find((m) => m.key === "lead-traced")!;
    const event = JSON.parse(relayed.value) as LeadScored;
    expect(relayed.headers).toEqual(toMessage(event).headers);
    expect(Object.keys(relayed.headers).sort()).toEqual([
      "ce-id",
      "ce-source",
      "ce-type",
      "content-type",
      "schema-version",
      "traceparent",
    ]);
    expect(relayed.headers["ce-type"]).toBe("lead.scored.v1");
    expect(relayed.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(relayed.headers.traceparent).not.toContain("00f067aa0ba902b7");
  });

  it("learns from the engine's settlements on real services: labels in PostgreSQL, a refit promoted and announced", async () => {
    const running = await startScoring(
      scoringConfig({
        PORT: "0",
        DATABASE_URL: database.url,
        // Refitted below once every label is in (the timer path: commands.test.ts).
        SCORING_REFIT_CHECK_SECONDS: "3600",
      }),
      { bus, db, logger, listen: false },
    );
    try {
      const market = Array.from({ length: 2_000 }, (_, i) => marketLead(i, { prefix: "mkt" }));
      await publishEvents(
        bus,
        Topics.leadEvents,
        market.map((l) => crmEvent(l.leadId, new Date().toISOString(), l.profile)),
      );
      const scoredFor = () =>
        new Map(scored.filter((s) => s.key.startsWith("mkt-")).map((s) => [s.key, s.id]));
      await waitFor(() => scoredFor().size === market.length, {
        timeoutMs: 120_000,
        message: "the market's leads scored",
      });
      const ids = scoredFor();
      const settlements = market.map((l) =>
        settledEvent(l.leadId, ids.get(l.leadId)!, l.rewarded, new Date().toISOString()),
      );
      // Redelivered settlements label nothing twice.
      await publishEvents(bus, Topics.outreachSettlements, [
        ...settlements,
        ...settlements.slice(0, 50),
      ]);
      await waitFor(
        async () =>
          (await db.db.$count(schema.examples, isNotNull(schema.examples.label))) ===
            market.length &&
          (await db.db.$count(
            schema.scoringInbox,
            like(schema.scoringInbox.eventId, "settled_%"),
          )) === market.length,
        { timeoutMs: 120_000, intervalMs: 250, message: "every settlement handled" },
      );
      expect(await db.db.$count(schema.examples, eq(schema.examples.label, 1))).toBe(
        market.filter((l) => l.rewarded).length,
      );
      const result = await running.service.refitIfDue();
      expect(result).toMatchObject({ outcome: "promoted" });
      const [refit] = await db.db
        .select()
        .from(schema.modelVersions)
        .where(eq(schema.modelVersions.cause, "refit"));
      expect(refit!.active).toBe(true);
      expect(refit!.holdout!.candidate.logLoss).toBeLessThan(refit!.holdout!.previous.logLoss);
      expect(refit!.tiers!.hot).toBeGreaterThan(refit!.tiers!.warm);
      // Announced on model.updates.v1 through the outbox, with its figures.
      const [announced] = await db.db
        .select()
        .from(schema.scoringOutbox)
        .where(eq(schema.scoringOutbox.topic, Topics.modelUpdates))
        .orderBy(desc(schema.scoringOutbox.id))
        .limit(1);
      expect(announced!.payload).toMatchObject({
        type: "model.version_activated.v1",
        data: { version: refit!.version, cause: "refit", holdout: { trainedOn: 1_600 } },
      });
    } finally {
      await running.stop();
    }
  });
});
