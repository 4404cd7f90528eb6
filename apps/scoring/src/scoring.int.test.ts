// Scoring on a real Kafka broker and a real PostgreSQL: events in → scores
// out, duplicates and out-of-order events, and a consumer that dies mid-batch.
import { createKafkaBus, publishEvents } from "@pw/bus";
import { createDb, type DbHandle, migrate, schema } from "@pw/db";
import { ALL_TOPICS, type LeadEvent, Topics } from "@pw/events";
import { kafkaFixture, postgresFixture, type TestDatabase } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crmEvent } from "../test/fixtures.ts";
import { startScoring } from "./consumers.ts";
import { ensureInitialModel } from "./model-store.ts";
import { scoringServiceBuilder } from "./service.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();

describe.runIf(kafka && pg)("scoring on real services", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  const scored: { key: string; id: string; tier: string }[] = [];

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_scoring");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    await ensureInitialModel(db.db);
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
      handler: async (e) => void scored.push({ key: e.subject, id: e.id, tier: e.data.tier }),
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
    await publishEvents(bus, Topics.leadEvents, events);

    const service = scoringServiceBuilder({ db: db.db });
    let handled = 0;
    let dead = false;
    // Member A dies (no commit, no finishing) in the batch that takes it past 80 events.
    const a = await startScoring({
      bus,
      db: db.db,
      groupId: "scoring",
      service: {
        handleOutcome: service.handleOutcome,
        handleLeadEvents: async (batch) => {
          if (dead) return new Promise(() => {});
          handled += batch.length;
          if (handled >= 80) {
            dead = true;
            void a.crash();
            return new Promise(() => {});
          }
          return service.handleLeadEvents(batch);
        },
        handleLeadEvent: async (e) => {
          if (dead) return new Promise(() => {});
          if (++handled === 80) {
            dead = true;
            void a.crash();
            return new Promise(() => {});
          }
          return service.handleLeadEvent(e);
        },
      },
    });
    const deadline = Date.now() + 60_000;
    while (!dead && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(dead).toBe(true);

    const b = await startScoring({ bus, db: db.db, groupId: "scoring", service });
    const t0 = Date.now();
    while (new Set(scored.map((s) => s.key)).size < leads && Date.now() < deadline + 60_000) {
      await new Promise((r) => setTimeout(r, 1000));
      if (process.env.DEBUG_SCORING)
        console.log(
          Date.now() - t0,
          scored.length,
          await db.db.$count(schema.scoringOutbox),
          b.subscriptions.map((x) => x.assignment()),
        );
    }
    await new Promise((r) => setTimeout(r, 2_000)); // anything extra would show up now
    await b.stop();

    const perLead = new Map<string, Set<string>>();
    for (const s of scored) perLead.set(s.key, (perLead.get(s.key) ?? new Set()).add(s.id));
    expect(perLead.size).toBe(leads);
    expect([...perLead.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(await db.db.$count(schema.scoringOutbox)).toBe(leads);
    // The stale "Intern" updates did not overwrite the newer titles.
    const [row] = await db.db
      .select()
      .from(schema.leads)
      .where((await import("drizzle-orm")).eq(schema.leads.leadId, "lead-0"));
    expect((row!.profile as Record<string, { value: string }>).title?.value).toBe("VP Sales");
    expect(scored.find((s) => s.key === "lead-0")?.tier).toBe("warm");
  });
});
