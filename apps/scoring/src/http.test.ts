import { describe, expect, it } from "vitest";
import { buildHttp, createScoringMetrics } from "./http.ts";

describe("scoring http", () => {
  it("reports readiness per dependency and exposes metrics", async () => {
    const metrics = createScoringMetrics();
    let broker = true;
    const app = buildHttp({
      metrics,
      ready: async () => ({ broker, database: true, stackai: "open" }),
    });
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
    broker = false;
    const down = await app.inject({ url: "/readyz" });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ broker: false, database: true, stackai: "open" });
    metrics.events.inc({ topic: "lead.events.v1", outcome: "emitted" });
    metrics.scorer.inc({ scorer: "builtin", fallback: "true" });
    const text = (await app.inject({ url: "/metrics" })).body;
    expect(text).toMatch(/pw_scoring_events_total\{topic="lead.events.v1",outcome="emitted"\} 1/);
    expect(text).toMatch(/pw_scoring_scores_total\{scorer="builtin",fallback="true"\} 1/);
    expect(text).toMatch(/pw_scoring_stackai_breaker_open 1/);
  });
});
