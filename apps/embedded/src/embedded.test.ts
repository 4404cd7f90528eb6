// Every service in one process on the in-process bus and PGlite, started through the
// same startX functions as their own processes: a signed Lightfield webhook goes in, an
// outreach request for that lead comes out, dispatch sends it through the in-process
// agent into the simulated inbox with a working unsubscribe link, and stopping leaves
// nothing running. The gateway runs beside them with a signing key made up for the run:
// an operator who signs in and engages the kill switch through its API stops dispatch.
import { createHook } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { queryRows } from "@pw/db";
import { hashPassword } from "@pw/gateway/password";
import { signed } from "@pw/ingest/sign-request";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { startEmbedded } from "./start.ts";

/** Resources that keep work going: timers, immediates, sockets, servers. */
const TRACKED = /^(Timeout|Immediate|TCPWRAP|TCPSERVERWRAP|PIPEWRAP)$/;
const secret = `whsec_${randomBytes(24).toString("base64")}`;

describe("embedded mode", () => {
  it("turns a signed lead webhook into a sent message, through ingest, scoring, the engine and dispatch in one process", async () => {
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
      env: {
        WEBHOOK_SECRET: secret,
        PORT: "0",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
        // The default quiet hours (20:00–08:00 UTC) would defer the send at night.
        DISPATCH_QUIET_HOURS: "off",
      },
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
    const dispatched: { leadId: string; status: string }[] = [];
    const verdicts = await stack.bus.subscribe({
      groupId: "test-verdicts",
      topic: "outreach.dispatched.v1",
      decode: (v) => v as { subject: string; data: { status: string } },
      handler: async (e) => void dispatched.push({ leadId: e.subject, status: e.data.status }),
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

    // Dispatch sends it through the in-process agent: the message is in the simulated inbox.
    const inbox = await waitFor(
      async () => {
        const rows = await queryRows<{ to: string; headers: Record<string, string> }>(
          stack.db.db,
          sql`select "to", headers from agent.inbox where lead_id = 'lf_ct_embedded_1'`,
        );
        return rows.length > 0 ? rows : undefined;
      },
      { timeoutMs: 30_000, message: "the lead's message in the simulated inbox" },
    );
    expect(inbox).toHaveLength(1);
    const mail = inbox![0]!;
    expect(mail.to).toBe("grace@example.com");
    await waitFor(
      () => dispatched.some((d) => d.leadId === "lf_ct_embedded_1" && d.status === "sent"),
      { timeoutMs: 30_000, message: "an outreach.dispatched.v1 sent for the lead" },
    );
    // Its one-click unsubscribe link is signed with the secret ingest verifies.
    const link = /<https?:\/\/[^/>]+(\/unsubscribe\/[^>]+)>/.exec(
      mail.headers["List-Unsubscribe"] ?? "",
    );
    expect(link, mail.headers["List-Unsubscribe"]).not.toBeNull();
    const unsubscribed = await stack.ingest.app.inject({
      method: "POST",
      url: link![1]!,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "List-Unsubscribe=One-Click",
    });
    expect(unsubscribed.statusCode).toBe(200);
    for (const s of [
      stack.ingest,
      stack.scoring,
      stack.experiments,
      stack.dispatch,
      stack.gateway,
    ]) {
      expect((await s.app.inject({ url: "/readyz" })).json()).toMatchObject({ status: "ready" });
    }

    await tap.close();
    await verdicts.close();
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

  it("lets a signed-in operator engage the kill switch through the gateway: dispatch holds the lead's next message", async () => {
    const password = randomBytes(18).toString("base64url");
    const stack = await startEmbedded({
      env: {
        WEBHOOK_SECRET: secret,
        PORT: "0",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
        DISPATCH_QUIET_HOURS: "off",
        // Dispatch's demo clock: the first follow-up (3 days after the first touch) is due
        // about 20 s later — time to engage the kill switch in between.
        DISPATCH_CLOCK_SCALE: "13000",
        GATEWAY_OPERATORS: `olga:operator:${await hashPassword(password)}`,
      },
      listen: false,
      logger: createLogger({ service: "embedded-test", level: "silent" }),
    });
    try {
      const verdicts: { step: number; status: string; reason?: string }[] = [];
      await stack.bus.subscribe({
        groupId: "test-kill-switch-verdicts",
        topic: "outreach.dispatched.v1",
        decode: (v) =>
          v as {
            subject: string;
            data: { status: string; reason?: string; cadenceStep: number };
          },
        handler: async (e) => {
          if (e.subject === "lf_ct_embedded_2")
            verdicts.push({
              step: e.data.cadenceStep,
              status: e.data.status,
              reason: e.data.reason,
            });
        },
      });
      const body = JSON.stringify({
        type: "contact.created",
        occurredAt: new Date().toISOString(),
        object: {
          id: "ct_embedded_2",
          fields: {
            $email: { value: "ada@example.com", valueType: "EMAIL" },
            $name: { value: { firstName: "Ada", lastName: "Lovelace" }, valueType: "FULL_NAME" },
            $title: { value: "VP Engineering", valueType: "TEXT" },
          },
          relationships: {},
        },
      });
      expect(
        (await stack.ingest.app.inject(signed("/webhooks/lightfield", body, { secret })))
          .statusCode,
      ).toBe(202);
      for (const type of ["demo_requested", "pricing_viewed"]) {
        const signal = JSON.stringify({
          type,
          occurredAt: new Date().toISOString(),
          leadId: "lf_ct_embedded_2",
        });
        const sent = await stack.ingest.app.inject(signed("/webhooks/signals", signal, { secret }));
        expect(sent.statusCode).toBe(202);
      }
      await waitFor(() => verdicts.some((v) => v.step === 0 && v.status === "sent"), {
        timeoutMs: 30_000,
        message: "the first touch sent",
      });

      // Signed in as the dashboard does it: the session cookie and the CSRF token it returns.
      const login = await stack.gateway.app.inject({
        method: "POST",
        url: "/api/login",
        payload: { username: "olga", password },
      });
      expect(login.statusCode).toBe(200);
      const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
      const { csrfToken } = login.json() as { csrfToken: string };
      const engaged = await stack.gateway.app.inject({
        method: "POST",
        url: "/api/commands/kill-switch",
        headers: { cookie, "x-csrf-token": csrfToken },
        payload: { engaged: true, reason: "incident drill" },
      });
      expect(engaged.statusCode, engaged.body).toBe(202);

      // The follow-up falls due with the switch engaged: held, with the reason, not sent.
      const followUp = await waitFor(() => verdicts.find((v) => v.step === 1), {
        timeoutMs: 60_000,
        message: "dispatch's verdict on the first follow-up",
      });
      expect(followUp).toEqual({ step: 1, status: "deferred", reason: "kill switch engaged" });
      const inbox = await queryRows<{ n: number }>(
        stack.db.db,
        sql`select count(*)::int as n from agent.inbox where lead_id = 'lf_ct_embedded_2'`,
      );
      expect(inbox[0]!.n).toBe(1);
    } finally {
      await stack.stop();
    }
  }, 120_000);
});
