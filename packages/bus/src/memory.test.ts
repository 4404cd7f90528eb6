import { createRequire } from "node:module";
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import { busConformance } from "./conformance.ts";
import { createMemoryBus } from "./memory.ts";
import { murmur2, partitionForKey } from "./partitioner.ts";

// Every bus made by one target shares one in-process broker, as Kafka clients share a cluster.
let counter = 0;
busConformance("in-memory", () => {
  const shared = createMemoryBus({ defaultPartitions: 4 });
  return {
    makeBus: () => {
      let closed = false;
      return {
        ...shared,
        publish: (t, m) =>
          closed ? Promise.reject(new Error("bus is closed")) : shared.publish(t, m),
        close: async () => {
          closed = true;
        },
      };
    },
    unique: (p) => `${p}-${++counter}`,
    timeoutMs: 5_000,
  };
});

describe("partitioner", () => {
  it("puts every key on the same partition as kafkajs's (Java-compatible) default partitioner", async () => {
    const require = createRequire(import.meta.url);
    const kafkaMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (
      k: string,
    ) => number;
    for (let i = 0; i < 2_000; i++) {
      const key =
        i % 3 === 0 ? `lead-${i}` : i % 3 === 1 ? `ct_${i * 7919}@acme.io` : "ü".repeat(i % 9);
      expect(murmur2(Buffer.from(key)), key).toBe(kafkaMurmur2(key));
      expect(partitionForKey(key, 6)).toBe((kafkaMurmur2(key) & 0x7fffffff) % 6);
    }
  });
});

describe("in-memory subscription lag", () => {
  it("counts what its partitions still hold for it, down to 0 once handled", async () => {
    const bus = createMemoryBus({ defaultPartitions: 1 });
    await bus.ensureTopics([{ name: "lagged" }]);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sub = await bus.subscribe({
      groupId: "slow",
      topic: "lagged",
      decode: (v) => v,
      handler: () => gate,
    });
    await bus.publish(
      "lagged",
      ["a", "b", "c"].map((key) => ({ key, value: "{}" })),
    );
    // One in the handler, two behind it: none committed yet.
    expect(sub.lag?.()).toBe(3);
    release();
    await waitFor(() => sub.lag?.() === 0, { message: "the lag back to 0" });
    await bus.close();
  });
});
