// The kit on the in-process bus and PGlite: readiness in one shape, metrics labelled by
// service, the typed outbox (schema-checked, size-limited, headers as a direct publish,
// trace carried), outbox lag and stalled consumers in readiness and metrics, and a stop
// that runs in reverse order and never hangs past its grace period.
import {
  type Bus,
  createMemoryBus,
  type IncomingMessage,
  NonRetryableError,
  toMessage,
} from "@pw/bus";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { ALL_TOPICS, type LeadScored, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scoredEvent } from "./fixtures/events.ts";
import {
  EventTooLargeError,
  InvalidEventError,
  runService,
  typedOutbox,
  withTrace,
} from "./index.ts";

const KitConfig = ServiceBaseConfig(0);
const config = (env: Record<string, string> = {}) => parseConfig(KitConfig, { PORT: "0", ...env });
const silent = createLogger({ service: "test", level: "silent" });

describe("service kit", () => {
  let handle: DbHandle;
  let bus: ReturnType<typeof createMemoryBus>;
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    bus = createMemoryBus();
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  });
  afterEach(async () => {
    await bus.close();
    await handle.close();
  });

  it("answers /readyz in one shape: each dependency ok | down | not_configured, 503 only for a required one", async () => {
    let vendor: "ok" | "down" = "ok";
    let broker = true;
    const service = await runService({
      name: "probe",
      config: config(),
      deps: {
        db: handle,
        bus: { ...bus, healthy: async () => broker },
        listen: false,
        logger: silent,
      },
      build: (kit) => {
        kit.check("vendor", async () =>
          vendor === "ok" ? { status: "ok" } : { status: "down", reason: "breaker open" },
        );
        kit.check("poller", async () => ({ status: "not_configured" }));
        return {};
      },
    });
    const ready = await service.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      service: "probe",
      status: "ready",
      checks: {
        database: { status: "ok", required: true },
        broker: { status: "ok", required: true },
        vendor: { status: "ok", required: false },
        poller: { status: "not_configured", required: false },
      },
    });
    vendor = "down";
    const degraded = await service.app.inject({ url: "/readyz" });
    expect(degraded.statusCode).toBe(200);
    expect(degraded.json().checks.vendor).toEqual({
      status: "down",
      reason: "breaker open",
      required: false,
    });
    broker = false;
    const down = await service.app.inject({ url: "/readyz" });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({
      status: "not_ready",
      checks: { broker: { status: "down", reason: "memory bus unreachable" } },
    });
    expect((await service.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    await service.stop();
  });

  it("labels every metric with the service, and keeps two services in one process apart", async () => {
    const start = (name: string) =>
      runService({
        name,
        config: config(),
        deps: { db: handle, bus, listen: false, logger: silent },
        build: async (kit) => {
          await kit.subscribe({ topic: Topics.leadScored, handler: async () => "seen" });
          return {};
        },
      });
    const [a, b] = [await start("alpha"), await start("beta")];
    await bus.publish(Topics.leadScored, [toMessage(scoredEvent("lead-1"))]);
    const metricsOf = async (s: typeof a) => (await s.app.inject({ url: "/metrics" })).body;
    await waitFor(async () => (await metricsOf(a)).includes('result="seen"'));
    await waitFor(async () => (await metricsOf(b)).includes('result="seen"'));
    const text = await metricsOf(a);
    expect(text).toMatch(
      /pw_events_handled_total\{topic="lead.scored.v1",result="seen",service="alpha"\} 1/,
    );
    expect(text).not.toContain('service="beta"');
    expect(text).toMatch(/pw_process_cpu_seconds_total\{service="alpha"\}/);
    await a.stop();
    await b.stop();
  });

  it("exports the DLQ depth of the topics it consumes: a parked message shows as waiting", async () => {
    const service = await runService({
      name: "dlq-probe",
      config: config(),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: async (kit) => {
        await kit.subscribe({
          topic: Topics.leadScored,
          handler: async (event) => {
            if (event.subject === "lead-poison") throw new NonRetryableError("refused for good");
            return "ok";
          },
        });
        return {};
      },
    });
    const metrics = async () => (await service.app.inject({ url: "/metrics" })).body;
    expect(await metrics()).not.toMatch(/pw_dlq_waiting\{[^}]*\} [1-9]/);
    await bus.publish(Topics.leadScored, [
      toMessage(scoredEvent("lead-poison")),
      toMessage(scoredEvent("lead-fine")),
    ]);
    await waitFor(async () => (await metrics()).includes('result="ok"'), {
      message: "the good event to be handled",
    });
    await waitFor(
      async () =>
        /pw_dlq_waiting\{topic="lead.scored.v1",service="dlq-probe"\} 1\n/.test(await metrics()),
      { message: "the parked message to show in pw_dlq_waiting" },
    );
    await service.stop();
  });

  it("refuses an event that breaks its topic's schema, naming the field, and stores nothing", async () => {
    const outbox = typedOutbox(schema.scoringOutbox);
    const bad = scoredEvent("lead-2");
    (bad.data as { score: number }).score = 250;
    const attempt = handle.db.transaction((tx) => outbox.enqueue(tx, Topics.leadScored, [bad]));
    await expect(attempt).rejects.toThrow(InvalidEventError);
    await expect(attempt).rejects.toThrow(/data\.score/);
    expect(await handle.db.$count(schema.scoringOutbox)).toBe(0);
  });

  it("refuses an event larger than the message limit at enqueue, naming its size and the limit", async () => {
    const service = await runService({
      name: "sizer",
      config: config({ OUTBOX_MAX_MESSAGE_BYTES: "4000" }),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: (kit) => kit.messaging({ outbox: schema.scoringOutbox, inbox: schema.scoringInbox }),
    });
    const big = scoredEvent("lead-big");
    big.data.reasons = Array.from({ length: 20 }, (_, i) => ({
      code: `reason.${i}`,
      label: "y".repeat(300),
      contribution: 1,
    }));
    // The kit's outbox and an app's own `typedOutbox(table)` both keep the configured limit.
    for (const outbox of [service.outbox, typedOutbox(schema.scoringOutbox)]) {
      const attempt = handle.db.transaction((tx) => outbox.enqueue(tx, Topics.leadScored, [big]));
      await expect(attempt).rejects.toThrow(EventTooLargeError);
      await expect(attempt).rejects.toThrow(
        /lead\.scored\.v1 .* is \d{4,} bytes; the limit is 4000 bytes \(OUTBOX_MAX_MESSAGE_BYTES\)/,
      );
    }
    await handle.db.transaction((tx) =>
      service.outbox.enqueue(tx, Topics.leadScored, [scoredEvent("lead-small")]),
    );
    expect(await handle.db.$count(schema.scoringOutbox)).toBe(1);
    await service.stop();
    // Without configuration the limit is just under Kafka's default of 1 MiB.
    const huge = scoredEvent("lead-huge");
    (huge.data as Record<string, unknown>).blob = "z".repeat(1_100_000);
    await expect(
      handle.db.transaction((tx) =>
        typedOutbox(schema.scoringOutbox).enqueue(tx, Topics.leadScored, [huge]),
      ),
    ).rejects.toThrow(/the limit is 1000000 bytes/);
  });

  it("reports outbox lag: metrics, and /readyz down while the oldest unpublished row is too old", async () => {
    let brokerUp = false;
    const flaky: Bus = {
      ...bus,
      publish: async (topic, messages) => {
        if (!brokerUp)
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9092"), {
            code: "ECONNREFUSED",
          });
        return bus.publish(topic, messages);
      },
    };
    const service = await runService({
      name: "lagger",
      config: config({ OUTBOX_MAX_LAG_MS: "300" }),
      deps: { db: handle, bus: flaky, listen: false, logger: silent },
      build: (kit) => kit.messaging({ outbox: schema.scoringOutbox, inbox: schema.scoringInbox }),
    });
    await handle.db.transaction((tx) =>
      service.outbox.enqueue(tx, Topics.leadScored, [scoredEvent("lead-lag")]),
    );
    const lagging = await waitFor(
      async () => {
        const r = await service.app.inject({ url: "/readyz" });
        return r.statusCode === 503 ? r : undefined;
      },
      { message: "/readyz to report the lagging outbox" },
    );
    expect(lagging!.json().checks.outbox).toEqual({
      status: "down",
      reason: expect.stringMatching(
        /oldest unpublished row is \d+ ms old \(limit 300 ms\); 1 unpublished/,
      ),
      required: true,
    });
    const metrics = (await service.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(
      /pw_outbox_unpublished_rows\{outbox="scoring.outbox",service="lagger"\} 1/,
    );
    expect(metrics).toMatch(
      /pw_outbox_oldest_unpublished_age_seconds\{outbox="scoring.outbox",service="lagger"\} 0\.[3-9]|[1-9]/,
    );
    expect(metrics).toMatch(
      /pw_outbox_quarantined_rows\{outbox="scoring.outbox",service="lagger"\} 0/,
    );
    brokerUp = true;
    service.relay.notify();
    await waitFor(async () => (await service.app.inject({ url: "/readyz" })).statusCode === 200, {
      message: "/readyz ready once the outbox is drained",
    });
    expect((await service.app.inject({ url: "/metrics" })).body).toMatch(
      /pw_outbox_unpublished_rows\{outbox="scoring.outbox",service="lagger"\} 0/,
    );
    await service.stop();
  });

  it("reports a stalled consumer in /readyz with its reason", async () => {
    let health: { status: "ok" | "stalled"; reason?: string; since?: number } = { status: "ok" };
    const watched: Bus = {
      ...bus,
      subscribe: async (options) =>
        Object.assign(await bus.subscribe(options), { health: () => health }),
    };
    const service = await runService({
      name: "stall",
      config: config(),
      deps: { db: handle, bus: watched, listen: false, logger: silent },
      build: async (kit) => {
        await kit.subscribe({ topic: Topics.leadScored, handler: async () => "seen" });
        return {};
      },
    });
    const ok = await service.app.inject({ url: "/readyz" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().checks.consumers).toEqual({ status: "ok", required: true });
    health = { status: "stalled", reason: "database unreachable: ECONNREFUSED", since: Date.now() };
    const stalled = await service.app.inject({ url: "/readyz" });
    expect(stalled.statusCode).toBe(503);
    expect(stalled.json().checks.consumers).toEqual({
      status: "down",
      reason: expect.stringContaining("lead.scored.v1: database unreachable: ECONNREFUSED"),
      required: true,
    });
    await service.stop();
  });

  it("relays an enqueued event with the headers of a direct publish, continuing the active trace", async () => {
    const received: IncomingMessage[] = [];
    await bus.subscribe({
      groupId: "tap",
      topic: Topics.leadScored,
      format: "raw",
      decode: (v) => v,
      handler: async (_e, ctx) => void received.push(ctx.message),
    });
    const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const service = await runService({
      name: "relay-test",
      config: config(),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: (kit) => kit.messaging({ outbox: schema.scoringOutbox, inbox: schema.scoringInbox }),
    });
    const event = scoredEvent("lead-3");
    await withTrace(parent, () =>
      handle.db.transaction((tx) => service.outbox.enqueue(tx, Topics.leadScored, [event])),
    );
    service.relay.notify();
    await waitFor(() => received.length === 1, { message: "the relayed event" });
    const got = received[0]!;
    const published = JSON.parse(got.value) as LeadScored;
    expect(published.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(published.traceparent).not.toBe(parent);
    expect(got.key).toBe("lead-3");
    expect(got.headers).toEqual(toMessage(published).headers);
    expect(got.headers).toMatchObject({
      "ce-id": event.id,
      "ce-type": "lead.scored.v1",
      "ce-source": "pw://scoring",
      "content-type": "application/cloudevents+json; charset=utf-8",
      "schema-version": "1",
      traceparent: published.traceparent,
    });
    await service.stop();
  });

  it("stops parts in reverse order, and a stop step that hangs is abandoned at the grace period", async () => {
    const order: string[] = [];
    const service = await runService({
      name: "stopper",
      config: config({ SHUTDOWN_GRACE_MS: "300" }),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: (kit) => {
        kit.onStop("first", () => void order.push("first"));
        kit.onStop("hangs", () => new Promise(() => order.push("hangs")));
        kit.onStop("last", () => void order.push("last"));
        return {};
      },
    });
    const started = Date.now();
    await service.stop();
    expect(order).toEqual(["last", "hangs"]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("closes the connection of a request still open at shutdown, so the process can exit", async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    const service = await runService({
      name: "stuck",
      config: config({ SHUTDOWN_GRACE_MS: "1000", HOST: "127.0.0.1" }),
      deps: { db: handle, bus, logger: silent },
      build: (kit) => {
        // A handler stuck behind a dependency that never answers.
        kit.app.post("/stuck", () => {
          entered();
          return new Promise(() => {});
        });
        return {};
      },
    });
    const answer = fetch(`${service.url}/stuck`, { method: "POST", body: "{}" }).then(
      (res) => res.status,
      (error: Error) => error,
    );
    await inHandler;
    await service.stop();
    // The caller learns its request did not go through (and would retry); no socket is left.
    expect(await answer).toBeInstanceOf(Error);
    const open = await new Promise<number>((r) =>
      service.app.server.getConnections((_e, n) => r(n)),
    );
    expect(open).toBe(0);
  });

  it("cleans up what it started when the service's own start fails", async () => {
    const owned = await runService({
      name: "fails",
      config: config(),
      deps: { db: handle, bus, listen: false, logger: silent },
      build: async (kit) => {
        await kit.subscribe({ topic: Topics.leadScored, handler: async () => "x" });
        throw new Error("boom");
      },
    }).catch((e: Error) => e);
    expect(owned).toBeInstanceOf(Error);
    expect((owned as Error).message).toBe("boom");
    // The subscription was closed: a new member of the same group gets every partition.
    const sub = await bus.subscribe({
      groupId: "fails",
      topic: Topics.leadScored,
      decode: (v) => v,
      handler: async () => {},
    });
    await sub.ready;
    expect(sub.assignment().length).toBeGreaterThan(0);
    await sub.close();
  });
});
