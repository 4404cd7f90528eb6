// Sentry on the embedded stack (every service in one process, the in-process bus), the
// DSN pointed at a local collector that speaks Sentry's envelope endpoint. One lead goes
// from a signed webhook to a sent message: every service's span of it is in the lead's
// one trace (the webhook's trace id), each the child of the span that caused it, across
// the bus and the outbox; the sends arrive as metrics with channel, segment and variant;
// and not one e-mail address or name is anywhere in what was sent (the raw envelopes).
import { randomBytes } from "node:crypto";
import { signed } from "@pw/ingest/sign-request";
import { createLogger } from "@pw/logger";
import { flushTelemetry, initTelemetry } from "@pw/telemetry";
import { startSentryCollector } from "@pw/telemetry/test-collector";
import { waitFor } from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbedded } from "./start.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const collector = await startSentryCollector();
afterAll(() => collector.close());

type Span = {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  attributes?: Record<string, { value: unknown } | unknown>;
};

/** Every span object in what arrived, wherever the item nests them. */
function spans(): Span[] {
  const found: Span[] = [];
  const visit = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) visit(x);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (
        typeof o.trace_id === "string" &&
        typeof o.span_id === "string" &&
        typeof o.name === "string"
      )
        found.push(o as unknown as Span);
      for (const x of Object.values(o)) visit(x);
    }
  };
  for (const item of collector.items("span")) visit(item.payload);
  return found;
}

const attribute = (s: Span, key: string) => {
  const a = s.attributes?.[key];
  return a && typeof a === "object" && "value" in a ? (a as { value: unknown }).value : a;
};

describe("Sentry on the embedded stack", () => {
  it("traces one lead's journey through every service as one trace, with nothing personal sent", {
    timeout: 90_000,
  }, async () => {
    expect(
      initTelemetry({
        dsn: collector.dsn,
        environment: "test",
        release: "pw@test",
        tracesSampleRate: 1,
      }),
    ).toBe(true);
    const stack = await startEmbedded({
      env: {
        WEBHOOK_SECRET: secret,
        PORT: "0",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
        DISPATCH_QUIET_HOURS: "off",
      },
      listen: false,
      logger: createLogger({ service: "embedded-telemetry-test", level: "silent" }),
    });
    const requests = new Map<string, string>();
    const requested = await stack.bus.subscribe({
      groupId: "test-requests",
      topic: "outreach.requested.v1",
      decode: (v) => v as { subject: string; data: { requestId: string } },
      handler: async (e) => void requests.set(e.subject, e.data.requestId),
    });
    const sent: string[] = [];
    const verdicts = await stack.bus.subscribe({
      groupId: "test-verdicts",
      topic: "outreach.dispatched.v1",
      decode: (v) => v as { subject: string; data: { status: string } },
      handler: async (e) => void (e.data.status === "sent" && sent.push(e.subject)),
    });
    const traceId = randomBytes(16).toString("hex");
    const trace = () => `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const body = JSON.stringify({
      type: "contact.created",
      occurredAt: new Date().toISOString(),
      object: {
        id: "ct_traced_1",
        fields: {
          $email: { value: "grace@example.com", valueType: "EMAIL" },
          $name: { value: { firstName: "Grace", lastName: "Hopper" }, valueType: "FULL_NAME" },
          $title: { value: "VP Engineering", valueType: "TEXT" },
        },
        relationships: {},
      },
    });
    const res = await stack.ingest.app.inject(
      signed("/webhooks/lightfield", body, { secret, headers: { traceparent: trace() } }),
    );
    expect(res.statusCode).toBe(202);
    for (const type of ["demo_requested", "pricing_viewed"]) {
      const signal = JSON.stringify({
        type,
        occurredAt: new Date().toISOString(),
        leadId: "lf_ct_traced_1",
      });
      await stack.ingest.app.inject(
        signed("/webhooks/signals", signal, { secret, headers: { traceparent: trace() } }),
      );
    }
    await waitFor(() => sent.includes("lf_ct_traced_1"), {
      timeoutMs: 45_000,
      message: "the lead's message sent",
    });
    // Days later, the provider reports a booked meeting (the campaign's reward) on a trace
    // of its own: no traceparent header, as a provider's webhook has none.
    const requestId = requests.get("lf_ct_traced_1")!;
    const outcome = await stack.ingest.app.inject(
      signed(
        "/webhooks/outcomes",
        JSON.stringify({
          type: "meeting_booked",
          occurredAt: new Date().toISOString(),
          leadId: "lf_ct_traced_1",
          requestId,
        }),
        { secret },
      ),
    );
    expect(outcome.statusCode).toBe(202);
    const outcomeTrace = (JSON.parse(outcome.body) as { eventId: string }).eventId;
    const prometheus = async () =>
      (await stack.experiments.app.inject({ method: "GET", url: "/metrics" })).body;
    await waitFor(async () => /pw_rewards_total\{[^}]*\} 1/.test(await prometheus()), {
      timeoutMs: 30_000,
      message: "the meeting credited (pw_rewards_total in /metrics)",
    });
    // The same figures without Sentry: rewards by variant, outcomes, the decision latency.
    const scrape = await prometheus();
    expect(scrape).toMatch(/pw_rewards_total\{[^}]*reward="meeting_booked"[^}]*variant="[^"]+"/);
    expect(scrape).toMatch(/pw_outcomes_total\{[^}]*outcome="meeting_booked"[^}]*\} 1/);
    expect(scrape).toMatch(/pw_decision_latency_seconds_count\{[^}]*\} [1-9]/);
    await requested.close();
    await verdicts.close();
    await stack.stop();
    await flushTelemetry(10_000);

    const journey = spans().filter((s) => s.trace_id === traceId);
    // The gateway follows every topic too (its stream): each service's own span.
    const named = (name: string, service: string) =>
      journey.filter((s) => s.name === name && attribute(s, "pw.service") === service);
    // Scoring handled the lead's events, the engine its score, dispatch the request: each
    // a span in the lead's trace, with the lead's id.
    const scoring = named("lead.events.v1 process", "scoring");
    const engine = named("lead.scored.v1 process", "experiments");
    const dispatch = named("outreach.requested.v1 process", "dispatch");
    expect(scoring.length).toBeGreaterThan(0);
    expect(engine.length).toBeGreaterThan(0);
    expect(dispatch.length).toBe(1);
    for (const s of [...scoring, ...engine, ...dispatch])
      expect(attribute(s, "lead.id")).toBe("lf_ct_traced_1");
    // Parented as the journey goes: each span is the child of the span that caused it
    // (through the outbox and the bus; the engine's queue holds the score's span).
    const ids = (list: Span[]) => new Set(list.map((s) => s.span_id));
    const childOf = (child: Span[], parent: Span[]) =>
      child.some((s) => ids(parent).has(s.parent_span_id ?? ""));
    // webhook → scored → queued (the engine's span) → variant chosen (later, by the drain)
    // → dispatch takes the request → sent.
    const decide = named("experiment.decide", "experiments");
    const send = named("outreach.send", "dispatch");
    expect(childOf(engine, scoring)).toBe(true);
    expect(childOf(decide, engine)).toBe(true);
    expect(childOf(dispatch, decide)).toBe(true);
    expect(childOf(send, dispatch)).toBe(true);
    expect(attribute(send[0]!, "status")).toBe("sent");
    expect(attribute(engine[0]!, "segment")).toEqual(expect.any(String));
    expect(attribute(dispatch[0]!, "variant")).toEqual(expect.any(String));
    expect(attribute(dispatch[0]!, "channel")).toBe("email");
    // The journey starts at ingest's webhook span, the parent of scoring's.
    const webhook = named("webhook.received", "ingest");
    expect(webhook.length).toBeGreaterThan(0);
    expect(childOf(scoring, webhook)).toBe(true);
    // The outcome, on the provider webhook's own trace, is recorded in the journey's
    // trace too: under the decision, linked to the webhook that reported it.
    const credited = named("outreach.outcome", "experiments");
    expect(credited.length).toBe(1);
    expect(childOf(credited, decide)).toBe(true);
    expect(attribute(credited[0]!, "outcome")).toBe("meeting_booked");
    const own = spans().find(
      (s) => s.name === "webhook.received" && attribute(s, "messaging.message.id") === outcomeTrace,
    );
    expect(own).toBeDefined();
    expect(own!.trace_id).not.toBe(traceId);
    expect(JSON.stringify(credited[0])).toContain(own!.span_id);

    const metrics = JSON.stringify(collector.items("trace_metric").map((i) => i.payload));
    expect(metrics).toContain("pw.sends");
    expect(metrics).toContain("pw.decisions");
    expect(metrics).toContain("pw.scores");
    // Not one address or name left the process, in any envelope.
    const wire = collector.envelopes.map((e) => e.raw).join("\n");
    expect(wire.length).toBeGreaterThan(0);
    expect(wire).not.toMatch(/grace@example\.com|Grace|Hopper/);
  });
});
