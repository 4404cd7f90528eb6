// The engine's HTTP surface on PGlite: readiness per dependency, and metrics read
// from the database (queue by status, today's capacity, decisions, arms).
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scored } from "../test/fixtures.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
import { buildHttp, createExperimentMetrics } from "./http.ts";

let handle: DbHandle;
const now = () => new Date("2026-11-24T12:00:00Z");

describe("experiments http", () => {
  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  it("reports readiness per dependency and the queue, capacity and arms as metrics", async () => {
    const engine = engineBuilder({
      db: handle.db,
      rng: seededRng(1),
      now,
      capacity: { perDay: 2 },
    });
    for (const id of ["a", "b", "c"]) await engine.handleScored(scored(id));
    await engine.drain();
    let broker = true;
    const metrics = createExperimentMetrics();
    const app = buildHttp({
      db: handle.db,
      metrics,
      capacityPerDay: 2,
      now,
      ready: async () => ({ broker, database: true }),
    });
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(200);
    broker = false;
    expect((await app.inject({ url: "/readyz" })).statusCode).toBe(503);
    metrics.events.inc({ topic: "lead.scored.v1", result: "queued" }, 3);
    const text = (await app.inject({ url: "/metrics" })).body;
    expect(text).toMatch(/pw_experiments_queue_leads\{status="requested"\} 2/);
    expect(text).toMatch(/pw_experiments_queue_leads\{status="queued"\} 1/);
    expect(text).toMatch(/pw_experiments_capacity_used 2/);
    expect(text).toMatch(/pw_experiments_capacity_per_day 2/);
    expect(text).toMatch(/pw_experiments_decisions\{state="requested"\} 2/);
    expect(text).toMatch(/pw_experiments_events_total\{topic="lead.scored.v1",result="queued"\} 3/);
    expect(
      text.match(/pw_experiments_arm_exposures\{segment="exec-mid",variant="\w+"\} \d+/g),
    ).toHaveLength(5);
  });
});
