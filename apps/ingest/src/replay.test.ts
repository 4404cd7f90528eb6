import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedServices, ingestApp, newSecret, type Services, tap } from "../test/harness.ts";
import { replay } from "./replay.ts";

describe("replay", () => {
  let services: Services;
  beforeAll(async () => {
    services = await embeddedServices();
  });
  afterAll(() => services.close());

  it("publishes valid lines, reports bad ones by line number, and publishes nothing on a second run", async () => {
    const secret = newSecret();
    const app = await ingestApp(services, [secret]);
    const topic = await tap(services.bus);
    const at = new Date().toISOString();
    const lines = [
      JSON.stringify({ type: "pricing_viewed", occurredAt: at, leadId: "replay-1" }),
      "",
      JSON.stringify({ type: "pricing_viewed", occurredAt: "not a date", leadId: "replay-2" }),
      "{broken",
      JSON.stringify({ type: "demo_requested", occurredAt: at, email: "replay@acme.io" }),
    ].join("\n");
    const progress: number[] = [];
    const first = await replay(app, lines, {
      route: "signals",
      secret,
      onProgress: (d) => progress.push(d),
    });
    expect(first).toMatchObject({ lines: 4, accepted: 2, duplicates: 0 });
    expect(first.rejected.map((r) => [r.line, r.status])).toEqual([
      [3, 400],
      [4, 400],
    ]);
    expect(first.rejected[0]!.message).toContain("occurredAt");
    expect(progress.at(-1)).toBe(4);
    await waitFor(() => topic.messages.length === 2, { timeoutMs: 5_000, message: "two events" });

    const second = await replay(app, lines, { route: "signals", secret });
    expect(second).toMatchObject({ accepted: 0, duplicates: 2 });
    // The duplicates were answered without publishing: two publishes in all, not four.
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(
      /pw_ingest_publish_seconds_count\{service="ingest",topic="lead.events.v1"\} 2\n/,
    );
    expect(topic.messages.map((m) => m.key).sort()).toEqual(["email:replay@acme.io", "replay-1"]);
    await topic.close();
    await app.close();
  });
});
