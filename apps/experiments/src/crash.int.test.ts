// The engine as a real process (src/main.ts) on a real broker and PostgreSQL,
// killed with SIGKILL while it is deciding and then restarted: every lead is
// requested exactly once — nothing accepted is lost, nothing is sent twice —
// and the exposures and capacity counters agree with the decisions.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createKafkaBus, publishEvents } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { ALL_TOPICS, Topics } from "@pw/events";
import {
  kafkaFixture,
  postgresFixture,
  type TestDatabase,
  topicMessageCount,
  waitFor,
} from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scored } from "../test/fixtures.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();

describe.runIf(kafka && pg)("experiments process killed mid-stream", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let bus: ReturnType<typeof createKafkaBus>;
  let prefix = "";
  const children: ChildProcess[] = [];
  const requested: { lead: string; requestId: string; eventId: string }[] = [];

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_exp_crash");
    db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    prefix = `${kafka!.uniqueName("expcrash")}.`;
    bus = createKafkaBus({ brokers: kafka!.brokers, topicPrefix: prefix, sessionTimeout: 10_000 });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 3 })));
    await bus.subscribe({
      groupId: "tap",
      topic: Topics.outreachRequested,
      decode: (v) => v as { id: string; subject: string; data: { requestId: string } },
      handler: async (e) =>
        void requested.push({ lead: e.subject, requestId: e.data.requestId, eventId: e.id }),
    });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await bus?.close();
    await db?.close();
    await database?.drop();
  });

  const start = (port: number) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "main.ts")], {
      env: {
        ...process.env,
        BUS_DRIVER: "kafka",
        KAFKA_BROKERS: kafka!.brokers.join(","),
        KAFKA_TOPIC_PREFIX: prefix,
        KAFKA_TOPIC_PARTITIONS: "3",
        DATABASE_URL: database.url,
        PORT: String(port),
        LOG_LEVEL: "warn",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push(child);
    return child;
  };

  it("SIGKILL while deciding, restart: each lead requested exactly once, counters exact", async () => {
    const leads = 150;
    await publishEvents(
      bus,
      Topics.leadScored,
      Array.from({ length: leads }, (_, i) => scored(`crash-${i}`, { score: 50 + (i % 50) })),
    );
    // Port 0: the OS picks a free one, so parallel suites never collide.
    const first = start(0);
    const firstExit = new Promise((r) => first.on("exit", r));
    await waitFor(() => requested.length >= 20, {
      timeoutMs: 90_000,
      intervalMs: 100,
      message: "the first process to request 20 leads",
    });
    first.kill("SIGKILL");
    await firstExit;
    const beforeRestart = new Set(requested.map((r) => r.lead)).size;
    expect(beforeRestart).toBeLessThan(leads);

    const second = start(0);
    await waitFor(() => new Set(requested.map((r) => r.lead)).size === leads, {
      timeoutMs: 90_000,
      intervalMs: 100,
      message: "every lead to be requested after the restart",
    });
    // Until the tap has read everything on the topic: a duplicate would be on it too.
    await waitFor(
      async () =>
        requested.length ===
        (await topicMessageCount(kafka!.brokers, `${prefix}outreach.requested.v1`)),
      { timeoutMs: 60_000, intervalMs: 200, message: "the whole topic to be read" },
    );
    second.kill("SIGTERM");
    await new Promise((r) => second.on("exit", r));

    // At-least-once delivery may repeat an event (same event id); never a second request.
    const perLead = new Map<string, Set<string>>();
    for (const r of requested)
      perLead.set(r.lead, (perLead.get(r.lead) ?? new Set()).add(r.requestId));
    expect(perLead.size).toBe(leads);
    expect([...perLead.values()].filter((ids) => ids.size !== 1)).toEqual([]);
    const decisions = await db.db.select().from(schema.decisions);
    expect(decisions).toHaveLength(leads);
    const exposures = (await db.db.select().from(schema.arms)).reduce((n, a) => n + a.exposures, 0);
    expect(exposures).toBe(leads);
    const used = (await db.db.select().from(schema.sendCapacity)).reduce((n, c) => n + c.used, 0);
    expect(used).toBe(leads);
    const queue = await db.db.select().from(schema.queue);
    expect(queue.filter((q) => q.status !== "requested")).toEqual([]);
  });
});
