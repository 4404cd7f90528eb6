// Every service in one process on the in-process bus and PGlite, started through the
// same startX functions as their own processes: a signed Lightfield webhook goes in, an
// outreach request for that lead comes out, and stopping leaves nothing running.
import { randomBytes } from "node:crypto";
import { signed } from "@pw/ingest/sign-request";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import { startEmbedded } from "./start.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;

describe("embedded mode", () => {
  it("turns a signed lead webhook into an outreach request, through ingest, scoring and the engine in one process", async () => {
    const before = new Set(process.getActiveResourcesInfo());
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
    // No timers, sockets or handles left behind by any service.
    const left = process.getActiveResourcesInfo().filter((r) => !before.has(r));
    expect(left.filter((r) => r !== "TTYWrap")).toEqual([]);
  });
});
