// The heartbeat every service publishes on service.health.v1 (in-process bus, PGlite):
// readiness as /readyz answers it, the outbox, what it parked in a DLQ, its consumers with
// their lag; a heartbeat the bus will not take is skipped, never queued, and never holds
// up a stop.
import { type Bus, createMemoryBus, NonRetryableError, subscribeTopic, toMessage } from "@pw/bus";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { ALL_TOPICS, type ServiceHealthV1, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoredEvent } from "./fixtures/events.ts";
import { runService } from "./index.ts";

const config = (env: Record<string, string> = {}) =>
  parseConfig(ServiceBaseConfig(0), { PORT: "0", HEALTH_EVERY_MS: "100", ...env });
const silent = createLogger({ service: "test", level: "silent" });

describe("service heartbeat", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
  }, 60_000);
  afterAll(() => handle.close());

  async function tapped() {
    const bus = createMemoryBus();
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
    const beats: ServiceHealthV1[] = [];
    await subscribeTopic(bus, {
      groupId: "tap",
      topic: Topics.serviceHealth,
      handler: async (e) => {
        if (e.type === "service.health.v1") beats.push(e);
      },
    });
    return { bus, beats };
  }

  it("says whether the service is ready and why not, with its outbox, DLQ and consumers", async () => {
    const { bus, beats } = await tapped();
    let vendorUp = true;
    const service = await runService({
      name: "probe",
      config: config({ SERVICE_VERSION: "1.2.3" }),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: async (kit) => {
        kit.check(
          "vendor",
          async () => (vendorUp ? { status: "ok" } : { status: "down", reason: "breaker open" }),
          { required: true },
        );
        await kit.subscribe({
          topic: Topics.leadScored,
          handler: async (event) => {
            if (event.subject.startsWith("poison")) throw new NonRetryableError("no such segment");
            return "ok";
          },
        });
        return kit.messaging({ outbox: schema.scoringOutbox, inbox: schema.scoringInbox });
      },
    });
    const last = () => beats.filter((b) => b.data.service === "probe").at(-1);
    try {
      await waitFor(() => last()?.data.ready === true, { message: "a ready heartbeat" });
      const first = last()!;
      expect(first.subject).toBe("service:probe");
      expect(first.data).toMatchObject({
        service: "probe",
        instance: expect.stringMatching(/^.+:\d+(\/\d+)?$/),
        version: "1.2.3",
        intervalMs: 100,
        outbox: { pending: 0, oldestPendingAgeMs: 0, quarantined: 0 },
        dlq: { sent: 0, byTopic: {} },
        consumers: [{ topic: "lead.scored.v1", group: "probe", status: "ok", lag: 0 }],
      });
      expect(first.data.checks).toContainEqual({
        name: "vendor",
        status: "ok",
        required: true,
      });

      await bus.publish(Topics.leadScored, [toMessage(scoredEvent("poison-1"))]);
      const parked = await waitFor(
        () => {
          const b = last();
          return b && b.data.dlq.sent === 1 ? b : undefined;
        },
        { message: "a heartbeat counting the parked message" },
      );
      expect(parked!.data.dlq).toMatchObject({
        byTopic: { "lead.scored.v1": 1 },
        last: {
          topic: "lead.scored.v1",
          reason: expect.stringContaining("no such segment"),
        },
      });

      vendorUp = false;
      const down = await waitFor(() => (last()?.data.ready === false ? last() : undefined), {
        message: "a heartbeat saying not ready",
      });
      expect(down!.data.checks).toContainEqual({
        name: "vendor",
        status: "down",
        required: true,
        reason: "breaker open",
      });
    } finally {
      await service.stop();
      await bus.close();
    }
  });

  it("skips a heartbeat the bus refuses: nothing is queued, the next one is fresh", async () => {
    const { bus, beats } = await tapped();
    let refuse = true;
    let attempts = 0;
    const flaky: Bus = {
      ...bus,
      publish: (topic, messages) => {
        if (topic === Topics.serviceHealth && refuse) {
          attempts++;
          return Promise.reject(new Error("broker unreachable"));
        }
        return bus.publish(topic, messages);
      },
    };
    const service = await runService({
      name: "skipper",
      config: config(),
      deps: { db: handle, bus: flaky, listen: false, logger: silent },
      build: () => ({}),
    });
    try {
      await waitFor(() => attempts >= 3, { message: "heartbeats tried while the bus refuses" });
      refuse = false;
      const backAt = Date.now();
      await waitFor(() => beats.length >= 2, { message: "heartbeats once the bus is back" });
      // The refused ones were not kept for later: only heartbeats made since come through
      // (one may have been made just before, while its checks ran).
      expect(beats.filter((b) => Date.parse(b.data.at) < backAt - 150)).toEqual([]);
    } finally {
      await service.stop();
      await bus.close();
    }
  });

  it("does not hold up a stop with a heartbeat the broker never acknowledges", async () => {
    const { bus } = await tapped();
    let stuck = false;
    const hanging: Bus = {
      ...bus,
      publish: (topic, messages) => {
        if (topic !== Topics.serviceHealth) return bus.publish(topic, messages);
        stuck = true;
        return new Promise<void>(() => {});
      },
    };
    // A long interval: the first heartbeat (at start) would wait 5 s for its answer.
    const service = await runService({
      name: "hanger",
      config: config({ HEALTH_EVERY_MS: "60000" }),
      deps: { db: handle, bus: hanging, listen: false, logger: silent },
      build: () => ({}),
    });
    await waitFor(() => stuck, { message: "the first heartbeat in flight" });
    const started = performance.now();
    await service.stop();
    expect(performance.now() - started).toBeLessThan(2_000);
    await bus.close();
  });

  it("is off with HEALTH_EVERY_MS=0", async () => {
    const { bus } = await tapped();
    const service = await runService({
      name: "quiet",
      config: config({ HEALTH_EVERY_MS: "0" }),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: () => ({}),
    });
    expect(service.heartbeat).toBeUndefined();
    await service.stop();
    await bus.close();
  });
});
