// The Kafka adapter coalesces concurrent publishes into one produce request. One caller's
// record that the broker refuses must fail that caller only: the others' publishes
// resolve and their records are on the topic.
import { kafkaFixture, topicMessageCount, waitFor } from "@pw/testkit";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaBus } from "./kafka.ts";

const kafka = await kafkaFixture();

describe.runIf(kafka)("kafka adapter: one bad record in a coalesced produce", () => {
  const bus = kafka ? createKafkaBus({ brokers: kafka.brokers, clientId: "coalesce" }) : undefined;
  afterAll(async () => {
    await bus?.close();
    await kafka?.stop();
  });

  /** 20 normal publishes and one bad one, all in the same tick (so in one request). */
  async function race(topic: string, badValue: string) {
    const good = Array.from({ length: 20 }, (_, i) => ({
      key: `lead-${i}`,
      value: JSON.stringify({ seq: i }),
    }));
    const results = await Promise.allSettled([
      ...good.map((m) => bus!.publish(topic, [m])),
      bus!.publish(topic, [{ key: "lead-3", value: badValue }]),
    ]);
    const goodRejected = results.slice(0, 20).filter((r) => r.status === "rejected");
    const bad = results[20]!;
    const onTopic = await topicMessageCount(kafka!.brokers, topic);
    process.stdout.write(
      `coalesce ${topic}: good rejected ${goodRejected.length}/20, bad ${bad.status}, on topic ${onTopic}\n`,
    );
    return { goodRejected, bad, onTopic, good };
  }

  async function readAll(topic: string, count: number) {
    const seen: string[] = [];
    const sub = await bus!.subscribe({
      groupId: kafka!.uniqueName("reader"),
      topic,
      format: "raw",
      decode: (v) => v as string,
      handler: async (v) => void seen.push(v),
    });
    await waitFor(() => seen.length >= count, { timeoutMs: 30_000, message: `${count} records` });
    await sub.close();
    return seen.sort();
  }

  it("a record over the broker's default 1 MB limit fails its own publish only", async () => {
    const topic = kafka!.uniqueName("coalesce-big");
    await bus!.ensureTopics([{ name: topic, partitions: 3 }]);
    const { goodRejected, bad, onTopic, good } = await race(topic, "x".repeat(1_200_000));
    expect(goodRejected).toEqual([]);
    expect(bad.status).toBe("rejected");
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(
      /PublishRejectedError: .*"lead-3" is 1200006 bytes; the topic accepts at most 1048588/,
    );
    expect(onTopic).toBe(20);
    expect(await readAll(topic, 20)).toEqual(good.map((m) => m.value).sort());
  });

  it("a record over the topic's own max.message.bytes fails its own publish only", async () => {
    const topic = kafka!.uniqueName("coalesce-small");
    await bus!.ensureTopics([
      { name: topic, partitions: 3, config: { "max.message.bytes": "10000" } },
    ]);
    const { goodRejected, bad, onTopic, good } = await race(topic, "y".repeat(50_000));
    expect(goodRejected).toEqual([]);
    expect(bad.status).toBe("rejected");
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(
      /PublishRejectedError: .*"lead-3" is 50006 bytes; the topic accepts at most 10000/,
    );
    expect(String((bad as PromiseRejectedResult).reason)).toContain(topic);
    expect(onTopic).toBe(20);
    expect(await readAll(topic, 20)).toEqual(good.map((m) => m.value).sort());
  });

  it("a limit the bus did not know: the broker refuses the request, the callers are retried apart, the producer stays usable", async () => {
    // Created behind the bus's back, so publish cannot know the limit in advance.
    const topic = kafka!.uniqueName("coalesce-unknown");
    const admin = new Kafka({ brokers: kafka!.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: 3,
          configEntries: [{ name: "max.message.bytes", value: "10000" }],
        },
      ],
    });
    await admin.disconnect();
    const { goodRejected, bad, good } = await race(topic, "z".repeat(50_000));
    expect(goodRejected).toEqual([]);
    expect(bad.status).toBe("rejected");
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(
      new RegExp(`PublishRejectedError: publish to "${topic}" rejected: .*MESSAGE_TOO_LARGE`),
    );
    // Whatever the refused request had already written elsewhere may now be there twice
    // (at-least-once); nothing good is missing.
    const after = Array.from({ length: 20 }, (_, i) => ({
      key: `lead-${i}`,
      value: JSON.stringify({ after: i }),
    }));
    const followUp = await Promise.allSettled(after.map((m) => bus!.publish(topic, [m])));
    expect(followUp.filter((r) => r.status === "rejected")).toEqual([]);
    const onTopic = await topicMessageCount(kafka!.brokers, topic);
    const seen = new Set(await readAll(topic, onTopic));
    for (const m of [...good, ...after]) expect(seen, m.value).toContain(m.value);
  });
});
