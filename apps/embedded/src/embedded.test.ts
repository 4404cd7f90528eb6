// Every service in one process on the in-process bus and PGlite, started through the
// same startX functions as their own processes: a signed Lightfield webhook goes in, an
// outreach request for that lead comes out, and stopping leaves nothing running.
import { createHook } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { signed } from "@pw/ingest/sign-request";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import { startEmbedded } from "./start.ts";

/** Resources that keep work going: timers, immediates, sockets, servers. */
const TRACKED = /^(Timeout|Immediate|TCPWRAP|TCPSERVERWRAP|PIPEWRAP)$/;
const secret = `whsec_${randomBytes(24).toString("base64")}`;

describe("embedded mode", () => {
  it("turns a signed lead webhook into an outreach request, through ingest, scoring and the engine in one process", async () => {
    const created = new Map<number, string>();
    let tracking = true; // until the stack has stopped: the test's own waiting is not tracked
    const hook = createHook({
      init: (id, type) => {
        if (tracking && TRACKED.test(type)) created.set(id, type);
      },
      destroy: (id) => void created.delete(id),
    }).enable();
    const alive = () => [...created.values()];
    const stack = await startEmbedded({
      env: { WEBHOOK_SECRET: secret, PORT: "0", EXPERIMENT_REVIEW_EVERY_MS: "500" },
      listen: false,
      logger: createLogger({ service: "embedded-test", level: "silent" }),
    });
    const requested: { leadId: string; type: string; traceparent?: string }[] = [];
    const tap = await stack.bus.subscribe({
      groupId: "test-tap",
      topic: "outreach.requested.v1",
      decode: (v) => v as { subject: string; type: string; traceparent?: string },
      handler: async (e) =>
        void requested.push({ leadId: e.subject, type: e.type, traceparent: e.traceparent }),
    });

    const body = JSON.stringify({
      type: "contact.created",
      occurredAt: new Date().toISOString(),
      object: {
        id: "ct_embedded_1",
        fields: {
          $email: { value: "grace@example.com", valueType: "EMAIL" },
          $name: { value: { firstName: "Grace", lastName: "Hopper" }, valueType: "FULL_NAME" },
          $title: { value: "VP Engineering", valueType: "TEXT" },
        },
        relationships: {},
      },
    });
    const traceId = randomBytes(16).toString("hex");
    const trace = () => `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const res = await stack.ingest.app.inject(
      signed("/webhooks/lightfield", body, {
        secret,
        headers: { traceparent: trace() },
      }),
    );
    expect(res.statusCode).toBe(202);
    // Intent from the site makes the lead worth a message.
    for (const type of ["demo_requested", "pricing_viewed"]) {
      const signal = JSON.stringify({
        type,
        occurredAt: new Date().toISOString(),
        leadId: "lf_ct_embedded_1",
      });
      const sent = await stack.ingest.app.inject(
        signed("/webhooks/signals", signal, { secret, headers: { traceparent: trace() } }),
      );
      expect(sent.statusCode).toBe(202);
    }

    await waitFor(() => requested.length > 0, {
      timeoutMs: 30_000,
      message: "an outreach.requested.v1 for the lead",
    });
    expect(requested[0]).toMatchObject({ type: "outreach.requested.v1" });
    expect(requested[0]!.leadId).toBe("lf_ct_embedded_1");
    // One trace for the lead's journey: webhook → lead event → score → request.
    expect(requested[0]!.traceparent?.split("-")[1]).toBe(traceId);
    for (const s of [stack.ingest, stack.scoring, stack.experiments]) {
      expect((await s.app.inject({ url: "/readyz" })).json()).toMatchObject({ status: "ready" });
    }

    await tap.close();
    await stack.stop();
    tracking = false;
    // Nothing any service started is still alive: every timer (unref'd ones too, which
    // getActiveResourcesInfo does not list), immediate and socket created since the start
    // has fired or been cleared. A one-shot callback queued while stopping may still be
    // due; it runs and is gone — a leak is not.
    await waitFor(() => alive().length === 0, {
      timeoutMs: 3_000,
      message: "every timer and handle the services created to be gone",
    }).catch(() => {});
    hook.disable();
    expect(alive()).toEqual([]);
  });
});
