import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compare } from "./simulate.ts";
import { World } from "./world.ts";

const load = async (name: string) =>
  World.parse(
    JSON.parse(await readFile(join(import.meta.dirname, "../../../data/worlds", name), "utf8")),
  );
const suppression = { minExposures: 500, threshold: 0.05, consecutiveChecks: 3 };

describe("simulator", () => {
  it("on the five-variant world the engine's policy beats every baseline and finds the best variant", async () => {
    const world = await load("five-variants.json");
    for (const seed of [1, 2, 3]) {
      const r = compare(world, { leads: 50_000, seed, suppression });
      const t = r.policies.thompson!;
      expect(t.regretPct).toBeLessThanOrEqual(4);
      expect(t.regretPct).toBeLessThan(r.policies.uniform!.regretPct / 5);
      expect(t.regretPct).toBeLessThan(r.policies.ab_then_ship!.regretPct);
      expect(t.loserTrafficPct).toBeLessThanOrEqual(15);
      expect(t.bestShareAt["50000"]).toBeGreaterThan(95);
      expect(t.suppressed.map((s) => s.variant)).not.toContain("case_study");
    }
  });

  it("moves when the best variant changes half way (discounting), where ship-the-winner does not", async () => {
    const world = await load("drifting.json");
    const r = compare(world, { leads: 50_000, seed: 1, suppression: false, discount: 0.97 });
    expect(r.policies.thompson!.bestShareAt["50000"]).toBeGreaterThan(80);
    expect(r.policies.ab_then_ship!.bestShareAt["50000"]).toBeLessThan(5);
    expect(r.policies.thompson!.regretPct).toBeLessThan(r.policies.epsilon_greedy!.regretPct);
  });

  it("rejects a world file that misses a rate, naming it", () => {
    const bad = World.safeParse({
      name: "x",
      variants: ["a", "b"],
      segments: [{ name: "s", share: 1, rates: { a: 0.1 } }],
    });
    expect(bad.error?.issues[0]?.path).toEqual(["segments", 0, "rates", "b"]);
  });
});
