// Pipeline health in the gateway (PGlite + the in-process bus), from what the services
// publish: another service's heartbeats on /api/health — ready, then a required check
// down (with why), then silent and so stale and not ready — each flip a row on the live
// stream a signed-in viewer is reading; the gateway's own checks beside them.
import { NonRetryableError, toMessage } from "@pw/bus";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { envelope, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { type RunningService, runService } from "@pw/service";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestSession, testGateway } from "../../test/auth-helpers.ts";
import { openSse, type SseClient } from "../../test/read-sse.ts";

const silent = createLogger({ service: "health-test", level: "silent" });

type HealthBody = {
  ready: boolean;
  intervalMs: number;
  staleAfterIntervals: number;
  gateway: { status: string; checks: Record<string, { status: string }> };
  services: {
    service: string;
    ready: boolean;
    instances: {
      instance: string;
      ready: boolean;
      reportedReady: boolean;
      stale: boolean;
      lastHeardAt: string;
      version: string;
      checks: { name: string; status: string; reason?: string }[];
      dlq: { sent: number; byTopic: Record<string, number>; last?: { reason: string } };
      consumers: { topic: string; group: string; status: string; lag?: number }[];
    }[];
  }[];
};

describe("pipeline health", () => {
  let gw: TestGateway;
  let viewer: TestSession;
  let stream: SseClient;
  let scorer: RunningService | undefined;
  let vendorUp = true;

  beforeAll(async () => {
    gw = await testGateway({ HEALTH_EVERY_MS: "100" });
    viewer = await gw.session("vera", "viewer");
    const base = await gw.app.listen({ port: 0, host: "127.0.0.1" });
    stream = await openSse(`${base}/api/stream?topics=${Topics.serviceHealth}`, {
      headers: { cookie: viewer.cookie },
    });
  }, 60_000);
  afterAll(async () => {
    stream?.close();
    await scorer?.stop();
    await gw?.stop();
  });

  const health = async () =>
    (await gw.as(viewer, { method: "GET", url: "/api/health" })).json() as HealthBody;
  const serviceOf = async (name: string) =>
    (await health()).services.find((s) => s.service === name);
  const flips = () =>
    stream.frames
      .map((f) => f.data as { type: string; subject: string; data: Record<string, unknown> })
      .filter((r) => r.type === "service.readiness_changed.v1" && r.subject === "service:scorer");

  it("shows each service as its heartbeats describe it, with the gateway's own checks", async () => {
    expect(stream.status).toBe(200);
    scorer = await runService({
      name: "scorer",
      config: parseConfig(ServiceBaseConfig(0), {
        PORT: "0",
        HEALTH_EVERY_MS: "100",
        SERVICE_VERSION: "scorer-7",
      }),
      deps: { db: gw.db, bus: gw.bus, listen: false, logger: silent },
      build: async (kit) => {
        kit.check(
          "model_store",
          async () =>
            vendorUp ? { status: "ok" } : { status: "down", reason: "model store unreachable" },
          { required: true },
        );
        await kit.subscribe({
          topic: Topics.leadEvents,
          handler: async () => {
            throw new NonRetryableError("unknown lead event shape");
          },
        });
        return {};
      },
    });
    const ready = await waitFor(
      async () => {
        const s = await serviceOf("scorer");
        return s?.ready ? s : undefined;
      },
      { message: "the scorer ready on /api/health" },
    );
    expect(ready!.instances).toHaveLength(1);
    expect(ready!.instances[0]).toMatchObject({
      ready: true,
      reportedReady: true,
      stale: false,
      version: "scorer-7",
      consumers: [{ topic: "lead.events.v1", group: "scorer", status: "ok", lag: 0 }],
      dlq: { sent: 0 },
    });
    expect(Date.parse(ready!.instances[0]!.lastHeardAt)).toBeGreaterThan(Date.now() - 5_000);

    const all = await health();
    expect(all.intervalMs).toBe(100);
    expect(all.staleAfterIntervals).toBe(3);
    expect(all.gateway.status).toBe("ready");
    expect(all.gateway.checks.database).toMatchObject({ status: "ok" });
    // The gateway publishes its own heartbeat too.
    await waitFor(async () => (await serviceOf("gateway"))?.ready === true, {
      message: "the gateway's own heartbeat",
    });
    // First seen ready is no news on the stream.
    expect(flips()).toEqual([]);
  });

  it("counts what a service parked in a DLQ, with the last reason", async () => {
    await gw.bus.publish(Topics.leadEvents, [
      toMessage(
        envelope({
          type: "lead.unknown_event.v1",
          source: "pw://ingest",
          subject: "lead-dlq-1",
          data: {
            source: "lightfield_webhook",
            originalType: "contact.merged",
            occurredAt: new Date().toISOString(),
            raw: {},
          },
        }) as never,
      ),
    ]);
    const parked = await waitFor(
      async () => {
        const i = (await serviceOf("scorer"))?.instances[0];
        return i && i.dlq.sent > 0 ? i : undefined;
      },
      { message: "the parked message in the scorer's heartbeat" },
    );
    expect(parked!.dlq.byTopic).toEqual({ "lead.events.v1": 1 });
    expect(parked!.dlq.last?.reason).toContain("unknown lead event shape");
  });

  it("flips to not ready with the failing check, and back, each flip a live-stream row", async () => {
    vendorUp = false;
    const down = await waitFor(
      async () => {
        const s = await serviceOf("scorer");
        return s && !s.ready ? s : undefined;
      },
      { message: "the scorer not ready" },
    );
    expect(down!.instances[0]!.checks).toContainEqual({
      name: "model_store",
      status: "down",
      required: true,
      reason: "model store unreachable",
    });
    expect((await health()).ready).toBe(false);
    await waitFor(() => flips().length >= 1, { message: "a readiness row on the stream" });
    expect(flips()[0]!.data).toMatchObject({
      service: "scorer",
      ready: false,
      was: true,
      stale: false,
      reason: "model_store: model store unreachable",
    });

    vendorUp = true;
    await waitFor(async () => (await serviceOf("scorer"))?.ready === true, {
      message: "the scorer ready again",
    });
    await waitFor(() => flips().length >= 2, { message: "the recovery on the stream" });
    expect(flips()[1]!.data).toMatchObject({ ready: true, was: false, stale: false });
  });

  it("counts a service that went silent as stale and not ready", async () => {
    await scorer!.stop();
    scorer = undefined;
    const silentNow = await waitFor(
      async () => {
        const s = await serviceOf("scorer");
        return s?.instances[0]?.stale ? s : undefined;
      },
      { message: "the stopped scorer marked stale" },
    );
    expect(silentNow).toMatchObject({ ready: false, instances: [{ ready: false, stale: true }] });
    // It still said "ready" in its last heartbeat: silence alone makes it not ready.
    expect(silentNow!.instances[0]!.reportedReady).toBe(true);
    expect((await health()).ready).toBe(false);
    await waitFor(() => flips().length >= 3, { message: "the silence on the stream" });
    expect(flips()[2]!.data).toMatchObject({
      ready: false,
      was: true,
      stale: true,
      reason: expect.stringMatching(/^not heard for \d+ s \(3× its 100 ms interval\)$/),
    });
  });

  it("answers only a signed-in viewer", async () => {
    expect((await gw.as(undefined, { method: "GET", url: "/api/health" })).statusCode).toBe(401);
  });
});
