/**
 * One conformance suite for every bus adapter: the in-process bus runs it as a
 * unit test, the Kafka adapter against a real broker. If the two ever differ
 * in a way a service could notice, one of them fails here.
 */
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import {
  type Bus,
  type IncomingMessage,
  NonRetryableError,
  PublishRejectedError,
  type Subscription,
} from "./types.ts";

export type ConformanceTarget = {
  /** A fresh bus connected to the same broker every time it is called. */
  makeBus(): Bus;
  /** A topic / group name unique to this run. */
  unique(prefix: string): string;
  /** How long to wait for messages to arrive (a broker needs longer than memory). */
  timeoutMs: number;
};

const identity = (v: unknown) => v as Record<string, unknown>;

function seqMessages(keys: string[], perKey: number) {
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i < perKey; i++) {
    for (const key of keys) out.push({ key, value: JSON.stringify({ key, seq: i }) });
  }
  return out;
}

export function busConformance(adapter: string, target: () => ConformanceTarget) {
  describe(`bus conformance: ${adapter}`, () => {
    async function setup(partitions = 4) {
      const t = target();
      const bus = t.makeBus();
      const topic = t.unique("conf");
      await bus.ensureTopics([{ name: topic, partitions }]);
      return { t, bus, topic };
    }

    /** Collects what lands in `<topic>.dlq`, through a group of its own. */
    async function watchDlq(t: ConformanceTarget, bus: Bus, topic: string) {
      const dead: IncomingMessage[] = [];
      const dlq = await bus.subscribe({
        groupId: t.unique("dlq"),
        topic: `${topic}.dlq`,
        format: "raw",
        decode: (v) => v,
        handler: async (_e, ctx) => void dead.push(ctx.message),
      });
      return { dead, dlq };
    }

    it("keeps per-key order and delivers every message once to a stable group", async () => {
      const { t, bus, topic } = await setup();
      const seen = new Map<string, number[]>();
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: identity,
        handler: async (e) => {
          const list = seen.get(e.key as string) ?? [];
          list.push(e.seq as number);
          seen.set(e.key as string, list);
        },
      });
      const keys = Array.from({ length: 12 }, (_, i) => `lead-${i}`);
      const messages = seqMessages(keys, 25);
      // Concurrent publishes of consecutive slices must keep order within a key.
      for (let i = 0; i < messages.length; i += 50) {
        await bus.publish(topic, messages.slice(i, i + 50));
      }
      await waitFor(() => [...seen.values()].reduce((n, l) => n + l.length, 0) >= messages.length, {
        timeoutMs: t.timeoutMs,
        message: "all messages",
      });
      for (const key of keys)
        expect(seen.get(key), key).toEqual(Array.from({ length: 25 }, (_, i) => i));
      await sub.close();
      await bus.close();
    });

    it("redelivers what a crashed member had not committed (at-least-once)", async () => {
      const { t, bus, topic } = await setup(1);
      const groupId = t.unique("g");
      const handledByA: number[] = [];
      let release!: () => void;
      const stuck = new Promise<void>((r) => {
        release = r;
      });
      const a = await bus.subscribe({
        groupId,
        topic,
        decode: identity,
        handler: async (e) => {
          handledByA.push(e.seq as number);
          // Message 30 never finishes: the process "dies" while handling it.
          if (e.seq === 30) await stuck;
        },
      });
      await bus.publish(topic, seqMessages(["k"], 100));
      await waitFor(() => handledByA.includes(30), {
        timeoutMs: t.timeoutMs,
        message: "member A to reach message 30",
      });
      await a.crash();
      release();

      const handledByB: number[] = [];
      const b = await bus.subscribe({
        groupId,
        topic,
        decode: identity,
        handler: async (e) => {
          handledByB.push(e.seq as number);
        },
      });
      await waitFor(() => handledByB.includes(99), {
        timeoutMs: t.timeoutMs,
        message: "member B to reach the end",
      });
      const all = new Set([...handledByA, ...handledByB]);
      expect(all.size).toBe(100);
      // The message A died on is redelivered, and B continues in order from A's last commit.
      expect(handledByB).toContain(30);
      expect(handledByB).toEqual([...handledByB].sort((x, y) => x - y));
      expect(handledByB[0]).toBeLessThanOrEqual(30);
      await b.close();
      await bus.close();
    });

    it("does not redeliver after a graceful close (offsets were committed)", async () => {
      const { t, bus, topic } = await setup(2);
      const groupId = t.unique("g");
      const first: number[] = [];
      const a = await bus.subscribe({
        groupId,
        topic,
        decode: identity,
        handler: async (e) => void first.push(e.seq as number),
      });
      await bus.publish(topic, seqMessages(["x"], 20));
      await waitFor(() => first.length === 20, { timeoutMs: t.timeoutMs, message: "first member" });
      await a.close();
      const second: number[] = [];
      const b = await bus.subscribe({
        groupId,
        topic,
        decode: identity,
        handler: async (e) => void second.push(e.seq as number),
      });
      await b.ready;
      await bus.publish(topic, [{ key: "x", value: JSON.stringify({ seq: 20 }) }]);
      await waitFor(() => second.length >= 1, { timeoutMs: t.timeoutMs, message: "second member" });
      expect(second).toEqual([20]);
      await b.close();
      await bus.close();
    });

    it("retries a failing handler, then parks the message in the DLQ with the error and goes on", async () => {
      const { t, bus, topic } = await setup(1);
      const attempts = new Map<number, number>();
      const handled: number[] = [];
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: identity,
        maxAttempts: 3,
        backoff: { initialMs: 5, maxMs: 20 },
        handler: async (e) => {
          const seq = e.seq as number;
          attempts.set(seq, (attempts.get(seq) ?? 0) + 1);
          if (seq === 1) throw new Error("CRM said no");
          handled.push(seq);
        },
      });
      const { dead, dlq } = await watchDlq(t, bus, topic);
      await bus.publish(topic, seqMessages(["k"], 3));
      await waitFor(() => handled.length === 2 && dead.length === 1, {
        timeoutMs: t.timeoutMs,
        message: "DLQ + the rest",
      });
      expect(handled).toEqual([0, 2]);
      expect(attempts.get(1)).toBe(3);
      const parked = dead[0]!;
      expect(JSON.parse(parked.value)).toEqual({ key: "k", seq: 1 });
      expect(parked.key).toBe("k");
      expect(parked.headers["dlq-error"]).toContain("CRM said no");
      expect(parked.headers["dlq-attempts"]).toBe("3");
      expect(parked.headers["dlq-reason"]).toBe("attempts-exhausted");
      expect(parked.headers["dlq-original-topic"]).toBe(topic);
      await Promise.all([sub.close(), dlq.close()]);
      await bus.close();
    });

    it("holds a partition while its handler fails transiently: retried past maxAttempts, stalled, nothing committed or parked", async () => {
      const { t, bus, topic } = await setup(1);
      const groupId = t.unique("g");
      let down = true;
      const attempts = new Map<number, number>();
      // What a handler sees when its database is down, wrapped as a query layer would.
      const outage = () =>
        new Error("insert failed", {
          cause: Object.assign(
            new Error("connect ECONNREFUSED for postgres://pw:hunter2@db:5432/leads"),
            { code: "ECONNREFUSED" },
          ),
        });
      const member = (handled: number[]) =>
        bus.subscribe({
          groupId,
          topic,
          decode: identity,
          maxAttempts: 2,
          backoff: { initialMs: 5, maxMs: 20 },
          handler: async (e) => {
            const seq = e.seq as number;
            attempts.set(seq, (attempts.get(seq) ?? 0) + 1);
            if (seq === 1 && down) throw outage();
            // A deterministic failure after the outage: parked at once, and, being on the
            // same key, behind anything else this partition would have parked.
            if (seq === 3) throw new NonRetryableError("CRM rejected the lead");
            handled.push(seq);
          },
        });
      const { dead, dlq } = await watchDlq(t, bus, topic);
      const byA: number[] = [];
      const a = await member(byA);
      await a.ready;
      expect(a.health()).toEqual({ status: "ok" });
      const before = Date.now();
      await bus.publish(topic, seqMessages(["k"], 4));
      await waitFor(() => (attempts.get(1) ?? 0) >= 6 && a.health().status === "stalled", {
        timeoutMs: t.timeoutMs,
        message: "member A stalled on message 1, retried well past maxAttempts",
      });
      const stalled = a.health();
      expect(stalled.reason).toContain("ECONNREFUSED");
      expect(stalled.reason).not.toContain("hunter2");
      expect(stalled.since).toBeGreaterThanOrEqual(before);
      expect(stalled.since).toBeLessThanOrEqual(Date.now());
      // The partition is held: nothing after message 1 is handled meanwhile.
      expect(byA).toEqual([0]);
      expect(dead).toEqual([]);

      // A graceful close during the stall returns promptly and commits nothing past 0.
      const closing = Date.now();
      await a.close();
      expect(Date.now() - closing).toBeLessThan(t.timeoutMs / 3);

      const byB: number[] = [];
      const b = await member(byB);
      await waitFor(() => b.health().status === "stalled", {
        timeoutMs: t.timeoutMs,
        message: "member B to stall on message 1 too (it was not committed)",
      });
      down = false;
      await waitFor(() => byB.length === 2 && dead.length === 1, {
        timeoutMs: t.timeoutMs,
        message: "member B to resume once the dependency is back",
      });
      expect(byB).toEqual([1, 2]);
      expect(JSON.parse(dead[0]!.value)).toEqual({ key: "k", seq: 3 });
      expect(dead[0]!.headers["dlq-attempts"]).toBe("1");
      expect(b.health()).toEqual({ status: "ok" });
      await Promise.all([b.close(), dlq.close()]);
      await bus.close();
    });

    it("sends a poison message (invalid JSON or schema) to the DLQ at once with the validation error", async () => {
      const { t, bus, topic } = await setup(1);
      const { z } = await import("zod");
      const Schema = z.object({ seq: z.number().int() });
      const handled: number[] = [];
      let calls = 0;
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: (v) => Schema.parse(v),
        maxAttempts: 5,
        handler: async (e) => {
          calls++;
          handled.push(e.seq);
        },
      });
      const { dead, dlq } = await watchDlq(t, bus, topic);
      await bus.publish(topic, [
        { key: "p", value: JSON.stringify({ seq: 1 }) },
        { key: "p", value: JSON.stringify({ seq: "two" }) },
        { key: "p", value: "{not json" },
        { key: "p", value: JSON.stringify({ seq: 4 }) },
      ]);
      await waitFor(() => handled.length === 2 && dead.length === 2, {
        timeoutMs: t.timeoutMs,
        message: "poison to DLQ",
      });
      expect(handled).toEqual([1, 4]);
      expect(calls).toBe(2);
      expect(dead[0]!.headers["dlq-error"]).toMatch(/schema validation failed: seq: /);
      expect(dead[0]!.headers["dlq-attempts"]).toBe("1");
      expect(dead[1]!.headers["dlq-error"]).toMatch(/invalid JSON/);
      expect(dead.map((d) => d.headers["dlq-reason"])).toEqual(["poison", "poison"]);
      expect(dead[1]!.value).toBe("{not json");
      await Promise.all([sub.close(), dlq.close()]);
      await bus.close();
    });

    it("parks a handler's own validation error at once, without retries", async () => {
      const { t, bus, topic } = await setup(1);
      const { z } = await import("zod");
      const Lead = z.object({ email: z.string().email() });
      let calls = 0;
      const handled: number[] = [];
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: identity,
        maxAttempts: 5,
        backoff: { initialMs: 5, maxMs: 20 },
        handler: async (e) => {
          calls++;
          Lead.parse(e); // e.g. what a CRM needs, stricter than the topic's schema
          handled.push(e.seq as number);
        },
      });
      const { dead, dlq } = await watchDlq(t, bus, topic);
      await bus.publish(topic, [
        { key: "v", value: JSON.stringify({ seq: 1, email: "not-an-email" }) },
        { key: "v", value: JSON.stringify({ seq: 2, email: "ada@example.com" }) },
      ]);
      await waitFor(() => handled.length === 1 && dead.length === 1, {
        timeoutMs: t.timeoutMs,
        message: "the invalid one parked, the valid one handled",
      });
      expect(calls).toBe(2);
      expect(dead[0]!.headers["dlq-attempts"]).toBe("1");
      expect(dead[0]!.headers["dlq-reason"]).toBe("validation");
      await Promise.all([sub.close(), dlq.close()]);
      await bus.close();
    });

    it("refuses a record larger than the topic's max.message.bytes to its own caller only", async () => {
      const t = target();
      const bus = t.makeBus();
      const topic = t.unique("limit");
      await bus.ensureTopics([
        { name: topic, partitions: 2, config: { "max.message.bytes": "10000" } },
      ]);
      const results = await Promise.allSettled([
        bus.publish(topic, [{ key: "a", value: JSON.stringify({ seq: 1 }) }]),
        bus.publish(topic, [{ key: "b", value: "x".repeat(20_000) }]),
        bus.publish(topic, [{ key: "c", value: JSON.stringify({ seq: 2 }) }]),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const error = (results[1] as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(PublishRejectedError);
      expect(error).toBeInstanceOf(NonRetryableError);
      expect(String(error)).toMatch(/"b" is 20001 bytes; the topic accepts at most 10000/);
      const seen: number[] = [];
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: identity,
        handler: async (e) => void seen.push(e.seq as number),
      });
      await waitFor(() => seen.length === 2, { timeoutMs: t.timeoutMs, message: "the two good" });
      expect(seen.sort()).toEqual([1, 2]);
      await sub.close();
      await bus.close();
    });

    it("shares partitions among a group's members and gives every group every message", async () => {
      const { t, bus, topic } = await setup(4);
      const group = t.unique("shared");
      const byMember: number[][] = [[], []];
      const members: Subscription[] = [];
      for (const i of [0, 1]) {
        members.push(
          await bus.subscribe({
            groupId: group,
            topic,
            decode: identity,
            handler: async (e) => void byMember[i]!.push(e.seq as number),
          }),
        );
      }
      const other: number[] = [];
      const independent = await bus.subscribe({
        groupId: t.unique("independent"),
        topic,
        decode: identity,
        handler: async (e) => void other.push(e.seq as number),
      });
      // Wait until the group is stable: both members own partitions, together all of them.
      await waitFor(
        () => {
          const a = members[0]!.assignment();
          const b = members[1]!.assignment();
          return a.length > 0 && b.length > 0 && a.length + b.length === 4;
        },
        { timeoutMs: t.timeoutMs, message: "a stable two-member group" },
      );
      await independent.ready;
      const messages = Array.from({ length: 200 }, (_, i) => ({
        key: `lead-${i}`,
        value: JSON.stringify({ seq: i }),
      }));
      await bus.publish(topic, messages);
      await waitFor(() => byMember[0]!.length + byMember[1]!.length >= 200 && other.length >= 200, {
        timeoutMs: t.timeoutMs,
        message: "both groups",
      });
      expect(byMember[0]!.length).toBeGreaterThan(0);
      expect(byMember[1]!.length).toBeGreaterThan(0);
      const union = [...byMember[0]!, ...byMember[1]!].sort((x, y) => x - y);
      expect(union).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect([...other].sort((x, y) => x - y)).toEqual(union);
      await Promise.all([...members, independent].map((m) => m.close()));
      await bus.close();
    });

    it("hands a batch handler runs of consecutive messages, falling back to one by one when a batch fails", async () => {
      const { t, bus, topic } = await setup(1);
      const batches: number[][] = [];
      const single: number[] = [];
      const { dead, dlq } = await watchDlq(t, bus, topic);
      const sub = await bus.subscribe({
        groupId: t.unique("g"),
        topic,
        decode: identity,
        maxAttempts: 2,
        backoff: { initialMs: 5, maxMs: 10 },
        batch: {
          maxSize: 10,
          handler: async (items) => {
            const seqs = items.map((i) => i.event.seq as number);
            if (seqs.includes(13)) throw new Error("one bad apple");
            batches.push(seqs);
          },
        },
        handler: async (e) => {
          if (e.seq === 13) throw new Error("still bad");
          single.push(e.seq as number);
        },
      });
      const messages = seqMessages(["k"], 30);
      messages.splice(20, 0, { key: "k", value: "{poison" });
      await bus.publish(topic, messages);
      const handled = () => batches.flat().length + single.length;
      await waitFor(() => handled() === 29 && dead.length === 2, {
        timeoutMs: t.timeoutMs,
        message: "all but the bad and the poison",
      });
      const order = [...batches.flat(), ...single].sort((a, b) => a - b);
      expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i !== 13));
      // Messages went in batches where they could; the failed batch went one by one.
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.every((b) => b.length <= 10 && !b.includes(13))).toBe(true);
      expect(single).toContain(12);
      expect(dead.map((d) => d.headers["dlq-error-class"]).sort()).toEqual(["handler", "poison"]);
      await Promise.all([sub.close(), dlq.close()]);
      await bus.close();
    });

    it("rejects publishing to a topic that does not exist instead of losing the message", async () => {
      const { t, bus } = await setup(1);
      await expect(bus.publish(t.unique("missing"), [{ key: "k", value: "{}" }])).rejects.toThrow();
      await bus.close();
    });
  });
}
