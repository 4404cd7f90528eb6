// The bus conformance suite on a real Kafka-protocol broker, plus what only a
// broker can show: a consumer process killed with SIGKILL mid-batch.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { kafkaFixture, topicMessageCount, waitFor } from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { busConformance } from "./conformance.ts";
import { createKafkaBus } from "./kafka.ts";

const kafka = await kafkaFixture();

describe.runIf(kafka)("kafka adapter", () => {
  const buses: ReturnType<typeof createKafkaBus>[] = [];
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await kafka?.stop();
  });

  busConformance(`kafka (${kafka?.source})`, () => ({
    makeBus: () => {
      const bus = createKafkaBus({
        brokers: kafka!.brokers,
        clientId: "conformance",
        sessionTimeout: 10_000,
      });
      buses.push(bus);
      return bus;
    },
    unique: (p) => kafka!.uniqueName(p),
    timeoutMs: 45_000,
  }));

  it("namespaces topics with a prefix on the broker while services use logical names", async () => {
    const prefix = `${kafka!.uniqueName("ns")}.`;
    const bus = createKafkaBus({ brokers: kafka!.brokers, topicPrefix: prefix });
    buses.push(bus);
    await bus.ensureTopics([{ name: "lead.events.v1", partitions: 2 }]);
    const got: { topic: string; key: string }[] = [];
    const sub = await bus.subscribe({
      groupId: kafka!.uniqueName("g"),
      topic: "lead.events.v1",
      decode: (v) => v,
      handler: async (_e, ctx) => void got.push({ topic: ctx.message.topic, key: ctx.message.key }),
    });
    await bus.publish("lead.events.v1", [{ key: "lead-ns", value: "{}" }]);
    await waitFor(() => got.length === 1, { timeoutMs: 30_000, message: "the namespaced message" });
    expect(got[0]).toEqual({ topic: "lead.events.v1", key: "lead-ns" });
    const { Kafka } = await import("kafkajs");
    const admin = new Kafka({ brokers: kafka!.brokers }).admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).toEqual(
      expect.arrayContaining([`${prefix}lead.events.v1`, `${prefix}lead.events.v1.dlq`]),
    );
    await sub.close();
  });

  it("a consumer process killed with SIGKILL mid-batch loses nothing: the group redelivers", async () => {
    const bus = createKafkaBus({ brokers: kafka!.brokers, sessionTimeout: 6_000 });
    buses.push(bus);
    const topic = kafka!.uniqueName("crash");
    const groupId = kafka!.uniqueName("g");
    await bus.ensureTopics([{ name: topic, partitions: 3 }]);
    const total = 900;
    await bus.publish(
      topic,
      Array.from({ length: total }, (_, i) => ({
        key: `lead-${i % 17}`,
        value: JSON.stringify({ seq: i }),
      })),
    );

    // A real process consumes slowly and prints each handled seq; we kill it half way.
    const child = spawn(process.execPath, [join(import.meta.dirname, "../test/slow-consumer.ts")], {
      env: {
        ...process.env,
        KAFKA_BROKERS: kafka!.brokers.join(","),
        TOPIC: topic,
        GROUP_ID: groupId,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const byChild: number[] = [];
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("seq ")) byChild.push(Number(line.slice(4)));
    });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    await waitFor(() => byChild.length >= 600, {
      timeoutMs: 60_000,
      message: "the child to handle 600 messages (past a commit tick)",
    });
    child.kill("SIGKILL");
    await exited;

    const bySurvivor: number[] = [];
    const survivor = await bus.subscribe({
      groupId,
      topic,
      decode: (v) => v as { seq: number },
      handler: async (e) => void bySurvivor.push(e.seq),
    });
    await waitFor(() => new Set([...byChild, ...bySurvivor]).size === total, {
      timeoutMs: 60_000,
      message: "every message handled",
    });
    await survivor.close();
    expect(byChild.length).toBeLessThan(total);
    expect(new Set(byChild).size).toBeGreaterThanOrEqual(600);
    expect(new Set([...byChild, ...bySurvivor]).size).toBe(total);
    // Redelivery is bounded by what was uncommitted when the child died.
    expect(bySurvivor.length).toBeLessThan(total);
  });

  it("a consumer killed with SIGKILL while stalled on a transient failure loses nothing and parks nothing", async () => {
    const bus = createKafkaBus({ brokers: kafka!.brokers, sessionTimeout: 6_000 });
    buses.push(bus);
    const topic = kafka!.uniqueName("stallkill");
    const groupId = kafka!.uniqueName("g");
    await bus.ensureTopics([{ name: topic, partitions: 1 }]);
    const total = 20;
    await bus.publish(
      topic,
      Array.from({ length: total }, (_, i) => ({
        key: "lead-1",
        value: JSON.stringify({ seq: i }),
      })),
    );

    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, "../test/stalled-consumer.ts")],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: kafka!.brokers.join(","),
          TOPIC: topic,
          GROUP_ID: groupId,
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const attempts: number[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n"))
        if (line.startsWith("attempt ")) attempts.push(Number(line.slice(8)));
    });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    // Stalled: the first message retried again and again (more than maxAttempts' 5),
    // nothing after it tried.
    await waitFor(() => attempts.length >= 7, {
      timeoutMs: 60_000,
      message: "the child to retry its first message past maxAttempts",
    });
    child.kill("SIGKILL");
    await exited;
    expect(new Set(attempts)).toEqual(new Set([0]));

    // The dependency is back: a new member of the group gets every message, in order.
    const handled: number[] = [];
    const survivor = await bus.subscribe({
      groupId,
      topic,
      decode: (v) => v as { seq: number },
      handler: async (e) => void handled.push(e.seq),
    });
    await waitFor(() => new Set(handled).size === total, {
      timeoutMs: 60_000,
      message: "every message handled by the survivor",
    });
    await survivor.close();
    expect(handled.slice(0, total)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(await topicMessageCount(kafka!.brokers, `${topic}.dlq`)).toBe(0);
  });
});
