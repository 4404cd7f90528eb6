/**
 * The DLQ tool's story, run on both adapters (dlq.test.ts in memory, dlq.int.test.ts
 * on a real broker): a handler rejects a kind of message, it is parked; the handler
 * is fixed; a redrive applies it exactly once; a drop keeps it, with its note.
 */
import { envelope } from "@pw/events";
import { waitFor } from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import type { DlqTool } from "./dlq.ts";
import { headersOf, toMessage } from "./typed.ts";
import { type Bus, type Headers, NonRetryableError } from "./types.ts";

export type DlqScenarioTarget = {
  makeBus(): Bus;
  tool(bus: Bus): DlqTool;
  unique(prefix: string): string;
  timeoutMs: number;
};

type Order = ReturnType<typeof order>;

function order(lead: string, kind: "good" | "bad") {
  return envelope({
    type: "test.order.v1",
    source: "pw://dlq-test",
    subject: lead,
    data: { kind },
  });
}

export function dlqScenario(name: string, setup: () => DlqScenarioTarget) {
  describe(`dlq tool (${name})`, () => {
    const target = setup();
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    /** Waits until `check` returns something (a found value, or true). */
    const wait = async <T>(check: () => T | Promise<T>, message: string) =>
      (await waitFor(check, {
        timeoutMs: target.timeoutMs,
        intervalMs: 100,
        message,
      })) as NonNullable<T>;

    /** A topic, a consumer that rejects `bad` orders until fixed, and the DLQ tool. */
    async function world(partitions: number) {
      const bus = target.makeBus();
      const tool = target.tool(bus);
      cleanups.push(async () => {
        await tool.close();
        await bus.close();
      });
      const topic = target.unique("orders");
      await bus.ensureTopics([{ name: topic, partitions }]);
      const state = {
        fixed: false,
        /** Times each event's effect was applied. */
        applied: new Map<string, number>(),
        headersSeen: new Map<string, Headers>(),
        /** Event ids in the order their effects were applied. */
        sequence: [] as string[],
      };
      await bus.subscribe<Order>({
        groupId: target.unique("orders-app"),
        topic,
        decode: (v) => v as Order,
        maxAttempts: 2,
        backoff: { initialMs: 1, maxMs: 1 },
        handler: async (event, { message }) => {
          if (event.data.kind === "bad" && !state.fixed)
            throw new NonRetryableError(`order kind "bad" is not supported`);
          state.applied.set(event.id, (state.applied.get(event.id) ?? 0) + 1);
          state.headersSeen.set(event.id, message.headers);
          state.sequence.push(event.id);
        },
      });
      /** Publishes a good order on `lead` and waits until it is applied: everything before it on that lead's partition has been handled. */
      const barrier = async (lead: string) => {
        const sentinel = order(lead, "good");
        await bus.publish(topic, [toMessage(sentinel)]);
        await wait(() => state.applied.get(sentinel.id) === 1, `the sentinel after ${lead}`);
      };
      const readAll = async (t: string, count: number) => {
        const got: { key: string; value: string; headers: Headers }[] = [];
        await bus.subscribe({
          groupId: target.unique("reader"),
          topic: t,
          format: "raw",
          decode: (v) => v as string,
          handler: async (_v, { message }) => void got.push(message),
        });
        await wait(() => got.length >= count, `${count} message(s) on ${t}`);
        return got;
      };
      return { bus, tool, topic, state, barrier, readAll };
    }

    it("parks a rejected message; after the fix a redrive applies it exactly once; a drop keeps it with its note", async () => {
      const { bus, tool, topic, state, barrier, readAll } = await world(3);
      const good = order("lead-1", "good");
      const bad = order("lead-1", "bad");
      await bus.publish(topic, [toMessage(good), toMessage(bad)]);
      await bus.publish(topic, [
        { key: "lead-2", value: "{not json", headers: { "ce-id": "p-1" } },
      ]);

      const parked = await wait(async () => {
        const list = await tool.listDlq(topic);
        return list.length === 2 ? list : undefined;
      }, "both messages parked");
      const rejected = parked.find((m) => m.eventId === bad.id)!;
      expect(rejected).toMatchObject({
        originalTopic: topic,
        key: "lead-1",
        reason: expect.stringContaining(`order kind "bad" is not supported`),
        errorClass: "handler",
        attempts: 1,
        eventType: "test.order.v1",
      });
      expect(Date.parse(rejected.parkedAt)).not.toBeNaN();
      const poison = parked.find((m) => m.key === "lead-2")!;
      expect(poison).toMatchObject({ errorClass: "poison", eventId: "p-1" });
      expect(poison.reason).toContain("invalid JSON");
      expect(await tool.dlqDepth([topic])).toEqual([
        { topic, dlqTopic: `${topic}.dlq`, waiting: 2 },
      ]);
      expect(state.applied.get(good.id)).toBe(1);
      expect(state.applied.has(bad.id)).toBe(false);

      state.fixed = true;
      const redriven = await tool.redrive({ topic, which: { reasonMatches: /not supported/ } });
      expect(redriven.handled.map((m) => m.eventId)).toEqual([bad.id]);
      expect(redriven.published).toBe(1);
      await wait(() => state.applied.get(bad.id) === 1, "the redriven order applied");
      // Same key, value and headers as first published; the parking's headers are gone.
      expect(state.headersSeen.get(bad.id)).toEqual(headersOf(bad));

      // Again: nothing left to redrive, and nothing more reaches the handler.
      const again = await tool.redrive({ topic, which: { reasonMatches: /not supported/ } });
      expect(again.handled).toEqual([]);
      await barrier("lead-1");
      expect(state.applied.get(bad.id)).toBe(1);
      expect(state.applied.get(good.id)).toBe(1);

      expect((await tool.listDlq(topic)).map((m) => m.key)).toEqual(["lead-2"]);
      expect((await tool.dlqDepth([topic]))[0]!.waiting).toBe(1);

      const dropped = await tool.drop({
        topic,
        which: "all",
        note: "vendor sent broken JSON; ticket 42",
      });
      expect(dropped.handled.map((m) => m.key)).toEqual(["lead-2"]);
      expect(await tool.listDlq(topic)).toEqual([]);
      expect((await tool.dlqDepth([topic]))[0]!.waiting).toBe(0);
      const [record] = await readAll(`${topic}.dlq.dropped`, 1);
      expect(record!.key).toBe("lead-2");
      expect(record!.value).toBe("{not json");
      expect(record!.headers).toMatchObject({
        "dlq-drop-note": "vendor sent broken JSON; ticket 42",
        "dlq-error": expect.stringContaining("invalid JSON"),
        "dlq-original-topic": topic,
      });
      // A drop is no redrive.
      expect(await tool.redrive({ topic, which: "all" })).toMatchObject({ handled: [] });
    });

    it("redrives one message out of order: the ones before it stay listed, and later redrive in order", async () => {
      const { bus, tool, topic, state, barrier } = await world(1);
      const bads = ["lead-a", "lead-b", "lead-c"].map((lead) => order(lead, "bad"));
      await bus.publish(topic, bads.map(toMessage));
      const parked = await wait(async () => {
        const list = await tool.listDlq(topic);
        return list.length === 3 ? list : undefined;
      }, "three parked");

      state.fixed = true;
      const middle = parked.find((m) => m.eventId === bads[1]!.id)!;
      const one = await tool.redrive({ topic, which: { originalOffset: middle.originalOffset } });
      expect(one.handled.map((m) => m.eventId)).toEqual([bads[1]!.id]);
      expect(one.reparked).toBe(1);
      await wait(() => state.applied.get(bads[1]!.id) === 1, "the middle one applied");

      // The first one was moved behind the third, but keeps what the operator saw.
      const left = await tool.listDlq(topic);
      expect(left.map((m) => m.eventId).sort()).toEqual([bads[0]!.id, bads[2]!.id].sort());
      const first = left.find((m) => m.eventId === bads[0]!.id)!;
      const firstBefore = parked.find((m) => m.eventId === bads[0]!.id)!;
      expect({ ...first, dlqOffset: "-" }).toEqual({ ...firstBefore, dlqOffset: "-" });
      expect((await tool.dlqDepth([topic]))[0]!.waiting).toBe(2);

      await expect(tool.redrive({ topic, which: { eventId: bads[1]!.id } })).rejects.toThrow(
        /no pending message matches event id/,
      );

      const rest = await tool.redrive({ topic, which: "all" });
      // In original order (a lead's events must not overtake each other).
      expect(rest.handled.length).toBe(2);
      await barrier("lead-a");
      for (const b of bads) expect(state.applied.get(b.id)).toBe(1);
      const ids = bads.map((b) => b.id);
      expect(state.sequence.filter((id) => ids.includes(id))).toEqual([ids[1], ids[0], ids[2]]);
      expect(await tool.listDlq(topic)).toEqual([]);
    });
  });
}
