import { envelope, type LeadEvent, Topics } from "@pw/events";
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import { createMemoryBus } from "./memory.ts";
import { publishEvents, subscribeTopic } from "./typed.ts";
import type { IncomingMessage } from "./types.ts";

describe("typed topics", () => {
  it("publishes envelopes keyed by lead with trace and schema headers, and decodes them by topic", async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ name: Topics.leadEvents }]);
    const got: { event: LeadEvent; message: IncomingMessage }[] = [];
    await subscribeTopic(bus, {
      groupId: "scoring",
      topic: Topics.leadEvents,
      handler: async (event, ctx) => void got.push({ event, message: ctx.message }),
    });
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await publishEvents(bus, Topics.leadEvents, [
      envelope({
        type: "lead.intent_signal.v1",
        source: "pw://ingest",
        subject: "lead-42",
        traceparent,
        data: { signal: "pricing_viewed", occurredAt: "2026-11-24T10:00:00Z", properties: {} },
      }),
    ]);
    await waitFor(() => got.length === 1, { timeoutMs: 2_000, message: "the event" });
    const { event, message } = got[0]!;
    expect(event.type).toBe("lead.intent_signal.v1");
    expect(message.key).toBe("lead-42");
    expect(message.headers).toMatchObject({
      traceparent,
      "ce-type": "lead.intent_signal.v1",
      "schema-version": "1",
      "content-type": "application/cloudevents+json; charset=utf-8",
    });
    await bus.close();
  });
});
