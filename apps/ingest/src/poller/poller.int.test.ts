// The Lightfield poller against the local contract server (documented API), with a
// real PostgreSQL (seen records, scan cursor) and a real Kafka broker.
import { createKafkaBus, type IncomingMessage } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLightfieldClient } from "@pw/lightfield";
import {
  accountDefinitions,
  accountFixture,
  contactDefinitions,
  contactFixture,
  type LightfieldServer,
  startLightfieldServer,
} from "@pw/lightfield/test-server";
import {
  kafkaFixture,
  postgresFixture,
  type TestDatabase,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPoller } from "./poller.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const KEY = "sk_lf_test_123";

describe.runIf(kafka && pg)("Lightfield poller", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  let server: LightfieldServer;
  const received: IncomingMessage[] = [];
  let prefix = "";

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_poller");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    prefix = `${kafka!.uniqueName("poller")}.`;
    bus = createKafkaBus({ brokers: kafka!.brokers, topicPrefix: prefix });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 2 })));
    await bus.subscribe({
      groupId: "poller-tap",
      topic: "lead.events.v1",
      format: "raw",
      decode: (v) => v,
      handler: async (_e, ctx) => void received.push(ctx.message),
    });
    server = await startLightfieldServer(KEY);
    server.setDefinitions("contacts", contactDefinitions);
    server.setDefinitions("accounts", accountDefinitions);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await bus?.close();
    await db?.close();
    await database?.drop();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  const client = () => createLightfieldClient({ baseUrl: server.url, apiKey: KEY });
  const poller = (maxPages?: number) =>
    createPoller({ client: client(), db: db.db, bus, types: ["contacts"], maxPages });
  const events = (from = 0) => received.slice(from).map((m) => JSON.parse(m.value));
  const waitForCount = async (n: number) => {
    // Until the tap has read everything on the topic: a duplicate would be on it too.
    await waitFor(
      async () =>
        received.length >= n &&
        received.length === (await topicMessageCount(kafka!.brokers, `${prefix}lead.events.v1`)),
      { timeoutMs: 60_000, intervalMs: 200, message: `${n} events, and all of the topic read` },
    );
  };
  const lists = () => server.requests.filter((r) => r.path === "/v1/contacts");

  it("scans 2,000 records at 25 per page within 25 req/s, each emitted once", async () => {
    for (let i = 0; i < 2000; i++) server.upsert("contacts", contactFixture(i));
    const started = Date.now();
    const r = await poller().pollOnce();
    const took = Date.now() - started;
    expect(r).toMatchObject({ published: 2000, records: 2000, complete: true });
    const pages = lists();
    expect(pages.length).toBeGreaterThanOrEqual(80);
    expect(pages.every((p) => Number(p.query.get("limit")) === 25)).toBe(true);
    const all = server.requests.map((q) => q.at).sort((a, b) => a - b);
    expect(all.at(-1)! - all[0]!).toBeGreaterThanOrEqual(3_150);
    for (let i = 25; i < all.length; i++)
      expect(all[i]! - all[i - 25]!).toBeGreaterThanOrEqual(950);
    expect(server.requests.some((q) => q.status === 429)).toBe(false);
    console.info(
      `full scan: ${server.requests.length} requests in ${took} ms = ${((server.requests.length * 1000) / took).toFixed(1)} req/s`,
    );
    await waitForCount(2000);
    expect(new Set(events().map((e) => e.subject)).size).toBe(2000);
  }, 60_000);

  it("a second scan emits only what changed (newer updatedAt, or same updatedAt with new content), not lagging copies", async () => {
    const before = received.length;
    server.upsert(
      "contacts",
      contactFixture(3, { updatedAt: "2026-11-21T08:00:00.000Z", title: "CTO" }),
    );
    // Same updatedAt, content changed.
    server.upsert("contacts", contactFixture(4, { title: "VP" }));
    // Null updatedAt, content changed.
    server.upsert("contacts", contactFixture(5, { updatedAt: null, title: "Founder" }));
    const r = await poller().pollOnce();
    expect(r.published).toBe(3);
    await waitForCount(before + 3);
    expect(
      events(before)
        .map((e) => e.subject)
        .sort(),
    ).toEqual(["lf_con_3", "lf_con_4", "lf_con_5"]);
    // Lists from a lagging index: con_3's newer copy is emitted once it is listed…
    server.settings.laggingIndex = true;
    server.upsert(
      "contacts",
      contactFixture(3, { updatedAt: "2026-11-22T08:00:00.000Z", title: "CEO" }),
    );
    server.refreshIndex();
    expect((await poller().pollOnce()).published).toBe(1);
    // …and an index that serves an older copy than we hold is not an update.
    server.upsert(
      "contacts",
      contactFixture(3, { updatedAt: "2026-11-21T08:00:00.000Z", title: "CTO" }),
    );
    server.refreshIndex();
    expect((await poller().pollOnce()).published).toBe(0);
    server.settings.laggingIndex = false;
    server.upsert(
      "contacts",
      contactFixture(3, { updatedAt: "2026-11-22T08:00:00.000Z", title: "CEO" }),
    );
    await waitForCount(before + 4);
  }, 60_000);

  it("resumes mid-scan from the persisted offset after a kill: nothing twice, nothing missed", async () => {
    const before = received.length;
    for (let i = 0; i < 300; i++)
      server.upsert("contacts", contactFixture(i, { updatedAt: "2026-11-25T00:00:00.000Z" }));
    const first = await poller(5).pollOnce();
    expect(first).toMatchObject({ pages: 5, published: 125, complete: false });
    server.requests.length = 0;
    const second = await poller().pollOnce();
    expect(lists()[0]?.query.get("offset")).toBe("125");
    expect(second.complete).toBe(true);
    expect(second.published).toBe(175);
    await waitForCount(before + 300);
    const subjects = events(before).map((e) => e.subject);
    expect(subjects).toHaveLength(300);
    expect(new Set(subjects).size).toBe(300);
  }, 60_000);

  it("a contact in the documented shape arrives as a lead with e-mail, name, account and select label", async () => {
    const before = received.length;
    server.upsert("accounts", accountFixture("acc_9", { relationships: {} }));
    server.upsert(
      "contacts",
      contactFixture(9999, { accountId: "acc_9", updatedAt: "2026-11-30T00:00:00.000Z" }),
    );
    const p = createPoller({ client: client(), db: db.db, bus, types: ["contacts", "accounts"] });
    await p.pollOnce();
    await waitFor(
      () =>
        events(before).some((e) => e.subject === "lf_con_9999") &&
        events(before).some((e) => e.data.objectId === "acc_9"),
      { timeoutMs: 30_000, intervalMs: 200, message: "contact and account events" },
    );
    const contact = events(before).find((e) => e.subject === "lf_con_9999");
    expect(contact.data).toMatchObject({
      source: "lightfield_poller",
      objectType: "contacts",
      profile: {
        email: "person9999@acme.io",
        firstName: "P9999",
        lastName: "Doe",
        accountId: "acc_9",
      },
    });
    const account = events(before).find((e) => e.data.objectId === "acc_9");
    // `$headcount` reads back as opt_hc_3; its label "51-200" (from definitions) gives 126.
    expect(account.data.profile).toMatchObject({
      company: "Acme",
      industry: "SaaS",
      employees: 126,
    });
  }, 60_000);
});
