// The delivery core on its own: what each kind of failure does to a message, a batch and
// the subscription's health. (The adapters run the same core in conformance.ts.)
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from "kafkajs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  classifyFailure,
  type DeliveryDeps,
  deliver,
  deliverMany,
  failureReason,
  stallTracker,
} from "./delivery.ts";
import {
  type IncomingMessage,
  NonRetryableError,
  type OutgoingMessage,
  type SubscribeOptions,
} from "./types.ts";

const message = (offset: number, value: unknown = { seq: offset }): IncomingMessage => ({
  topic: "t",
  partition: 0,
  offset: String(offset),
  key: "k",
  value: JSON.stringify(value),
  headers: {},
  timestamp: 0,
});
const refused = () =>
  new Error("insert failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" }),
  });
const fast = { initialMs: 1, maxMs: 4 };

function harness() {
  const tracker = stallTracker();
  const parked: { topic: string; messages: OutgoingMessage[] }[] = [];
  let dlqDown = false;
  const healthSeen: string[] = [];
  const deps: DeliveryDeps = {
    publish: async (topic, messages) => {
      healthSeen.push(tracker.health().status);
      if (dlqDown) throw new KafkaJSConnectionError("Connection error: ECONNREFUSED");
      parked.push({ topic, messages });
    },
    isActive: () => true,
    stall: tracker.partition(0),
  };
  return {
    tracker,
    parked,
    deps,
    healthSeen,
    setDlqDown: (v: boolean) => {
      dlqDown = v;
    },
  };
}

describe("classifyFailure", () => {
  it.each([
    ["a NonRetryableError", new NonRetryableError("CRM said no"), "deterministic"],
    [
      "a handler's ZodError",
      (() => z.object({ a: z.string() }).safeParse({}).error)(),
      "deterministic",
    ],
    [
      "a NonRetryableError wrapping a connection error (the handler decided)",
      new NonRetryableError("give up", { cause: refused() }),
      "deterministic",
    ],
    ["a refused connection under a wrapper", refused(), "transient"],
    [
      "kafkajs retries exhausted on a lost connection",
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError("Connection error"), {
        retryCount: 5,
        retryTime: 1000,
      }),
      "transient",
    ],
    [
      "kafkajs MESSAGE_TOO_LARGE",
      new KafkaJSProtocolError({
        type: "MESSAGE_TOO_LARGE",
        code: 10,
        retriable: false,
        message: "too large",
      } as never),
      "unknown",
    ],
    ["a plain bug", new TypeError("x is undefined"), "unknown"],
  ])("%s → %s", (_name, error, verdict) => {
    expect(classifyFailure(error)).toBe(verdict);
  });
});

describe("failureReason", () => {
  it("joins the cause chain and redacts credentials", () => {
    const error = new Error("insert failed", {
      cause: new Error("could not reach postgres://scoring:hunter2@db:5432/pw"),
    });
    expect(failureReason(error)).toBe(
      "insert failed ← could not reach postgres://scoring:[redacted]@db:5432/pw",
    );
  });

  it("names an AggregateError by its members' codes", () => {
    const error = new AggregateError([Object.assign(new Error(""), { code: "ECONNREFUSED" })], "");
    expect(failureReason(error)).toContain("ECONNREFUSED");
  });
});

describe("deliver", () => {
  const options = (handler: SubscribeOptions<unknown>["handler"]): SubscribeOptions<unknown> => ({
    groupId: "g",
    topic: "t",
    decode: (v) => v,
    maxAttempts: 2,
    backoff: fast,
    handler,
  });

  it("retries a transient failure past maxAttempts, stalled meanwhile, and handles it once it passes", async () => {
    const h = harness();
    const seen: string[] = [];
    let calls = 0;
    const outcome = await deliver(
      message(0),
      options(async () => {
        calls++;
        seen.push(h.tracker.health().status);
        if (calls <= 10) throw refused();
      }),
      h.deps,
    );
    expect(outcome).toEqual({ status: "handled" });
    expect(calls).toBe(11);
    expect(seen[0]).toBe("ok");
    expect(seen.slice(1).every((s) => s === "stalled")).toBe(true);
    expect(h.tracker.health()).toEqual({ status: "ok" });
    expect(h.parked).toEqual([]);
  });

  it("parks at once on a deterministic failure, with its reason", async () => {
    const h = harness();
    let calls = 0;
    const outcome = await deliver(
      message(0),
      options(async () => {
        calls++;
        throw new NonRetryableError("CRM said no");
      }),
      h.deps,
    );
    expect(outcome.status).toBe("dead-lettered");
    expect(calls).toBe(1);
    expect(h.parked[0]!.topic).toBe("t.dlq");
    expect(h.parked[0]!.messages[0]!.headers).toMatchObject({
      "dlq-reason": "non-retryable",
      "dlq-attempts": "1",
    });
  });

  it("holds the message, stalled, while the DLQ cannot take it, without running the handler again", async () => {
    const h = harness();
    h.setDlqDown(true);
    let calls = 0;
    const delivery = deliver(
      message(0),
      options(async () => {
        calls++;
        throw new Error("bug");
      }),
      h.deps,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(h.tracker.health()).toMatchObject({
      status: "stalled",
      reason: expect.stringMatching(/^could not park in DLQ: Connection error/),
    });
    h.setDlqDown(false);
    expect(await delivery).toMatchObject({ status: "dead-lettered" });
    expect(calls).toBe(2);
    expect(h.parked[0]!.messages[0]!.headers).toMatchObject({
      "dlq-reason": "attempts-exhausted",
      "dlq-attempts": "2",
    });
    expect(h.tracker.health()).toEqual({ status: "ok" });
  });

  it("stops retrying, uncommitted, once the member is no longer active", async () => {
    const h = harness();
    let active = true;
    const delivery = deliver(
      message(0),
      options(async () => {
        throw refused();
      }),
      { ...h.deps, isActive: () => active },
    );
    await new Promise((r) => setTimeout(r, 20));
    active = false;
    expect(await delivery).toEqual({ status: "aborted" });
    expect(h.tracker.health()).toEqual({ status: "ok" });
  });
});

describe("deliverMany with a batch handler", () => {
  it("retries a batch that failed transiently whole, instead of splitting it", async () => {
    const h = harness();
    const batches: number[][] = [];
    const singles: number[] = [];
    let failures = 3;
    const done = await deliverMany(
      [0, 1, 2, 3].map((i) => message(i)),
      {
        groupId: "g",
        topic: "t",
        decode: (v) => v as { seq: number },
        backoff: fast,
        handler: async (e) => void singles.push(e.seq),
        batch: {
          maxSize: 10,
          handler: async (items) => {
            if (failures-- > 0) throw refused();
            batches.push(items.map((i) => i.event.seq));
          },
        },
      },
      h.deps,
    );
    expect(done).toBe(4);
    expect(batches).toEqual([[0, 1, 2, 3]]);
    expect(singles).toEqual([]);
    expect(h.tracker.health()).toEqual({ status: "ok" });
  });
});
