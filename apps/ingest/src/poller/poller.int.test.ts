// The Lightfield poller against a local server speaking Lightfield's contract,
// with a real PostgreSQL (cursor, dedupe) and a real Kafka broker.
import { createKafkaBus, type IncomingMessage } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import {
  kafkaFixture,
  postgresFixture,
  type TestDatabase,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLightfieldServer } from "../../test/lightfield-server.ts";
import { createLightfieldClient, LightfieldApiError } from "./lightfield-client.ts";
import { createPoller } from "./poller.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const KEY = "sk_lf_test_123";

const contact = (i: number, updatedAt: string, title = "Engineer") => ({
  id: `ct_${i}`,
  fields: {
    $email: { value: `person${i}@acme.io`, valueType: "EMAIL" },
    $name: { value: { firstName: `P${i}`, lastName: "Doe" }, valueType: "FULL_NAME" },
    $title: { value: title, valueType: "TEXT" },
  },
  relationships: { $account: { objectType: "accounts", ids: ["acc_1"] } },
  createdAt: "2026-11-01T00:00:00.000Z",
  updatedAt,
});

describe.runIf(kafka && pg)("Lightfield poller", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  let server: Awaited<ReturnType<typeof startLightfieldServer>>;
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
  });
  afterAll(async () => {
    await server?.close();
    await bus?.close();
    await db?.close();
    await database?.drop();
  });

  const client = () => createLightfieldClient({ baseUrl: server.url, apiKey: KEY });
  const waitForCount = async (n: number) => {
    // Until the tap has read everything on the topic: a duplicate would be on it too.
    await waitFor(
      async () =>
        received.length >= n &&
        received.length === (await topicMessageCount(kafka!.brokers, `${prefix}lead.events.v1`)),
      { timeoutMs: 30_000, intervalMs: 200, message: `${n} events, and all of the topic read` },
    );
  };

  it("pages through every record through 429 and 500 answers, emitting each once", async () => {
    for (let i = 0; i < 60; i++)
      server.upsert(
        "contacts",
        contact(i, `2026-11-20T10:00:${String(i % 60).padStart(2, "0")}.000Z`),
      );
    server.upsert("accounts", {
      id: "acc_1",
      fields: {
        $name: { value: "Acme", valueType: "TEXT" },
        $employeeCount: { value: 250, valueType: "NUMBER" },
      },
      relationships: {},
      updatedAt: "2026-11-20T09:00:00.000Z",
    });
    server.faults.push({ status: 429, retryAfter: "1" }, { status: 503 });
    const poller = createPoller({
      client: client(),
      db: db.db,
      bus,
      types: ["contacts", "accounts"],
    });
    expect(await poller.pollOnce()).toBe(61);
    await waitForCount(61);
    expect(received).toHaveLength(61);
    const events = received.map((m) => JSON.parse(m.value));
    expect(new Set(events.map((e) => e.subject)).size).toBe(61);
    const c7 = events.find((e) => e.subject === "lf_ct_7");
    expect(c7.data).toMatchObject({
      source: "lightfield_poller",
      objectType: "contacts",
      operation: "updated",
      profile: { email: "person7@acme.io", firstName: "P7" },
    });
    expect(events.find((e) => e.subject === "lf_account_acc_1")?.data.profile).toMatchObject({
      company: "Acme",
      employees: 250,
    });
    // Pages of at most 25, and the 429 was honoured (≥ 1 s before the retry).
    expect(server.requests.every((r) => Number(r.query.get("limit")) <= 25)).toBe(true);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(950);
  });

  it("resumes from its persisted cursor after a restart: nothing twice, only what changed", async () => {
    const before = received.length;
    const restarted = createPoller({
      client: client(),
      db: db.db,
      bus,
      types: ["contacts", "accounts"],
    });
    expect(await restarted.pollOnce()).toBe(0);
    for (const i of [3, 4, 5])
      server.upsert("contacts", contact(i, "2026-11-21T08:00:00.000Z", "CTO"));
    expect(await restarted.pollOnce()).toBe(3);
    await waitForCount(before + 3);
    const fresh = received.slice(before).map((m) => JSON.parse(m.value));
    expect(fresh.map((e) => e.subject).sort()).toEqual(["lf_ct_3", "lf_ct_4", "lf_ct_5"]);
    expect(fresh.every((e) => e.data.profile.title === "CTO")).toBe(true);
    // The cursor filter was sent: only records updated since the last one seen were listed.
    // The cursor moved to the newest change and was persisted: the next pass asks only from there.
    expect(await restarted.pollOnce()).toBe(0);
    const lastContacts = server.requests.filter((r) => r.path === "/v1/contacts").at(-1);
    expect(lastContacts?.query.get("$updatedAt[gte]")).toBe("2026-11-21T08:00:00.000Z");
  });

  it("stays under 25 requests per second", async () => {
    server.requests.length = 0;
    const c = client();
    await Promise.all(
      Array.from({ length: 40 }, () => c.list("contacts", { limit: 1, offset: 0 })),
    );
    const times = server.requests.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 25; i < times.length; i++)
      expect(times[i]! - times[i - 25]!).toBeGreaterThanOrEqual(950);
  });

  it("surfaces a non-retriable error with Lightfield's type and param", async () => {
    const bad = createLightfieldClient({ baseUrl: server.url, apiKey: "sk_lf_wrong" });
    const error = await bad.list("contacts", { limit: 5, offset: 0 }).catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldApiError);
    expect(error).toMatchObject({ status: 401, type: "authentication_error" });
    const tooBig = await client().list("contacts", { limit: 25, offset: 0 });
    expect(tooBig.records.length).toBeLessThanOrEqual(25);
  });
});
