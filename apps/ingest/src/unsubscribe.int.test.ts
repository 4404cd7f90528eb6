// One-click unsubscribe on a real Kafka broker and PostgreSQL: from the mail provider's POST
// to the `unsubscribed` outcome being readable by a consumer takes well under a second, and
// the same link POSTed again is not published again.
import { randomBytes } from "node:crypto";
import { createKafkaBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { webhookReceipts } from "@pw/db/ingest";
import { ALL_TOPICS, signUnsubscribeToken, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newSecret } from "../test/harness.ts";
import { ingestConfig } from "./config.ts";
import { startIngest } from "./start.ts";
import { unsubscribeEventId } from "./unsubscribe.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();

describe.runIf(kafka && pg)("one-click unsubscribe on real services", () => {
  const secret = randomBytes(24).toString("base64url");
  /** When each event id was first read by the consumer (performance.now()). */
  const readAt = new Map<string, number>();
  const copies = new Map<string, number>();
  let cleanup: (() => Promise<void>)[] = [];
  let receiptCount: () => Promise<number>;
  let post: (url: string) => Promise<{ statusCode: number; json(): unknown }>;

  beforeAll(async () => {
    const database = await pg!.createDatabase("pw_unsub");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    receiptCount = async () => (await db.db.select().from(webhookReceipts)).length;
    const bus = createKafkaBus({
      brokers: kafka!.brokers,
      clientId: "unsub-int",
      sessionTimeout: 10_000,
      topicPrefix: `${kafka!.uniqueName("unsub")}.`,
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
    const running = await startIngest(
      ingestConfig({ WEBHOOK_SECRET: newSecret(), UNSUBSCRIBE_SECRETS: secret }),
      {
        bus,
        db,
        listen: false,
        logger: createLogger({ service: "ingest-test", level: "silent" }),
      },
    );
    const sub = await bus.subscribe({
      groupId: "unsub-reader",
      topic: Topics.outreachOutcomes,
      decode: (v) => v as { id: string },
      handler: async (e) => {
        if (!readAt.has(e.id)) readAt.set(e.id, performance.now());
        copies.set(e.id, (copies.get(e.id) ?? 0) + 1);
      },
    });
    await sub.ready;
    post = (url) =>
      running.app.inject({
        method: "POST",
        url,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: "List-Unsubscribe=One-Click",
      });
    cleanup = [
      () => sub.close(),
      () => running.stop(),
      () => bus.close(),
      () => db.close(),
      () => database.drop(),
    ];
    // The consumer is fetching (not only assigned) before anything is timed.
    const warm = signUnsubscribeToken({ leadId: "lead-warm-up" }, secret);
    expect((await post(`/unsubscribe/${warm}`)).statusCode).toBe(200);
    await waitFor(() => readAt.has(unsubscribeEventId(warm)), {
      timeoutMs: 60_000,
      message: "the warm-up outcome",
    });
  }, 120_000);

  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  it("the unsubscribed outcome is readable by a consumer within 1 s of the POST", async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const token = signUnsubscribeToken(
        { leadId: `lead-int-${i}`, requestId: `req_int_${i}`, channel: "email" },
        secret,
      );
      const id = unsubscribeEventId(token);
      const started = performance.now();
      const res = await post(`/unsubscribe/${token}`);
      const answered = performance.now() - started;
      expect(res.statusCode).toBe(200);
      expect(answered).toBeLessThan(1_000);
      await waitFor(() => readAt.has(id), {
        timeoutMs: 10_000,
        intervalMs: 5,
        message: `outcome ${i} on the topic`,
      });
      latencies.push(readAt.get(id)! - started);
    }
    process.stdout.write(
      `unsubscribe POST → readable by a consumer: ${latencies.map((l) => `${Math.round(l)} ms`).join(", ")}\n`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1_000);
  });

  it("the same link POSTed again answers 200 duplicate and is on the topic once", async () => {
    const token = signUnsubscribeToken({ leadId: "lead-int-dup", requestId: "req_dup" }, secret);
    const id = unsubscribeEventId(token);
    const receipts = await receiptCount();
    expect((await post(`/unsubscribe/${token}`)).json()).toEqual({ unsubscribed: true });
    expect(await receiptCount()).toBe(receipts + 1); // persisted: a restart still knows it
    expect((await post(`/unsubscribe/${token}`)).json()).toEqual({
      unsubscribed: true,
      duplicate: true,
    });
    await waitFor(() => readAt.has(id), { timeoutMs: 10_000, message: "the outcome" });
    // A later message on the same partition key proves the consumer read past any copy.
    const after = signUnsubscribeToken({ leadId: "lead-int-dup", requestId: "req_after" }, secret);
    expect((await post(`/unsubscribe/${after}`)).statusCode).toBe(200);
    await waitFor(() => readAt.has(unsubscribeEventId(after)), { message: "the later outcome" });
    expect(copies.get(id)).toBe(1);
  });
});
