import { describe, expect, it } from "vitest";
import {
  createDlqTool,
  DlqSelectionError,
  originalHeaders,
  type ParkedMessage,
  planAction,
} from "./dlq.ts";
import { dlqScenario } from "./dlq-scenario.ts";
import { createMemoryBus } from "./memory.ts";

let counter = 0;
dlqScenario("in-memory", () => ({
  makeBus: () => createMemoryBus({ defaultPartitions: 3 }),
  tool: (bus) => createDlqTool(bus),
  unique: (p) => `${p}-${++counter}`,
  timeoutMs: 5_000,
}));

function parked(
  dlqOffset: number,
  originalOffset: number,
  extra: Partial<ParkedMessage> = {},
): ParkedMessage {
  return {
    dlqPartition: 0,
    dlqOffset: String(dlqOffset),
    originalTopic: "t",
    originalPartition: 0,
    originalOffset: String(originalOffset),
    key: "k",
    reason: "Error: boom",
    errorClass: "handler",
    failureKind: undefined,
    attempts: 5,
    consumerGroup: "g",
    parkedAt: `2025-01-01T00:00:0${originalOffset}.000Z`,
    eventId: `e${originalOffset}`,
    eventType: "x.v1",
    value: "{}",
    headers: {},
    ...extra,
  };
}

describe("planAction", () => {
  it("takes the selected messages, re-parks the unselected ones before the last of them, leaves the rest", () => {
    const pending = [
      parked(0, 10),
      parked(1, 11, { reason: "Error: fixed" }),
      parked(2, 12),
      parked(3, 13, { reason: "Error: fixed" }),
      parked(4, 14),
    ];
    const plan = planAction(pending, { reasonMatches: /fixed/ });
    expect(plan.handled.map((m) => m.originalOffset)).toEqual(["11", "13"]);
    expect(plan.repark.map((m) => m.originalOffset)).toEqual(["10", "12"]);
    expect(plan.handledBelow).toEqual(new Map([[0, 4]]));
  });

  it("redrives in original order whatever the DLQ order, and a message parked twice once", () => {
    const pending = [
      parked(0, 12),
      parked(1, 10, { consumerGroup: "a" }),
      parked(2, 10, { consumerGroup: "b", reason: "Error: other" }),
      parked(3, 11),
    ];
    const plan = planAction(pending, "all");
    expect(plan.redrive.map((m) => m.originalOffset)).toEqual(["10", "11", "12"]);
    expect(plan.handled).toHaveLength(4);
    expect(plan.repark).toEqual([]);
  });

  it("does not re-park a message whose copy (left by an interrupted run) stays pending", () => {
    const pending = [parked(0, 10), parked(1, 11), parked(2, 10)];
    const plan = planAction(pending, { originalOffset: "11" });
    expect(plan.repark).toEqual([]);
    expect(plan.handledBelow).toEqual(new Map([[0, 2]]));
  });

  it("a one-message selector must match exactly one message", () => {
    const pending = [parked(0, 10), parked(1, 10, { originalPartition: 1 })];
    expect(() => planAction(pending, { originalOffset: "10" })).toThrow(DlqSelectionError);
    expect(() => planAction(pending, { originalOffset: "10" })).toThrow(/2 different messages/);
    expect(
      planAction(pending, { originalOffset: "10", originalPartition: 1 }).handled,
    ).toHaveLength(1);
    expect(() => planAction(pending, { eventId: "nope" })).toThrow(
      /no pending message matches event id nope/,
    );
    expect(planAction(pending, { reasonMatches: /nope/ }).handled).toEqual([]);
  });

  it("selects by reason on the error text or on why the consumer gave up", () => {
    const pending = [
      parked(0, 10, {
        reason: "KafkaJSConnectionError: refused",
        failureKind: "attempts-exhausted",
      }),
      parked(1, 11, { reason: "Error: unsupported", failureKind: "non-retryable" }),
    ];
    const offsets = (re: RegExp) =>
      planAction(pending, { reasonMatches: re }).handled.map((m) => m.originalOffset);
    expect(offsets(/attempts-exhausted/)).toEqual(["10"]);
    expect(offsets(/unsupported/g)).toEqual(["11"]);
    expect(offsets(/unsupported/g)).toEqual(["11"]);
  });

  it("strips the parking's headers only", () => {
    expect(
      originalHeaders({ "ce-id": "1", traceparent: "t", "dlq-error": "x", "dlq-attempts": "5" }),
    ).toEqual({
      "ce-id": "1",
      traceparent: "t",
    });
  });
});

describe("dlq tool on the in-process bus", () => {
  it("names an unknown topic", async () => {
    const bus = createMemoryBus();
    await expect(createDlqTool(bus).listDlq("nope")).rejects.toThrow(/unknown topic "nope.dlq"/);
    await bus.close();
  });

  it("refuses a drop without a note", async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ name: "t" }]);
    await expect(createDlqTool(bus).drop({ topic: "t", which: "all", note: " " })).rejects.toThrow(
      /note/,
    );
    await bus.close();
  });
});
