// What a user of `pnpm sim` sees of recipients: the engine's guardrails pausing a variant
// under every policy, a segment left with nothing to send, meetings that come too late
// for the attribution window — and, for a world file v1, exactly the figures of before.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compare, defaultOptions, type PolicyResult, simulate } from "./simulate.ts";
import { World } from "./world.ts";

const read = async (path: string) => JSON.parse(await readFile(path, "utf8"));
const load = async (name: string) =>
  World.parse(await read(join(import.meta.dirname, "../../../data/worlds", name)));
const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
const arm = (r: PolicyResult, variant: string) => r.arms.find((a) => a.variant === variant)!;

describe("guardrails in the simulator", () => {
  it("bouncer.json: the 8% bouncer is paused within 150 sends to it, with its reason, in seeds 1–10", async () => {
    const world = await load("bouncer.json");
    const paused = seeds.map((seed) => {
      const r = simulate(world, "thompson", { ...defaultOptions(5_000), seed });
      const roi = arm(r, "roi");
      expect(roi.reason, `seed ${seed}`).toMatch(
        /^Paused 'roi' in all: hard-bounce rate (at least [\d.]+%|just over 5%) \(80% sure\) over the 5% limit, (\d+ bounces in \d+ sends|about \d+ bounces in its last \d+ sends \(weighted to the latest\))$/,
      );
      expect(roi.sends, "no send after the pause").toBe(roi.pausedAtSends);
      return roi.pausedAtSends!;
    });
    // 40, 36, 51, 25, 14, 132, 99, 24, 144, 30 when written; over many seeds the rule
    // pauses an 8% variant within 150 sends in about 88% of worlds (ADR 0014).
    expect(Math.max(...paused)).toBeLessThanOrEqual(150);
  });

  it("a paused variant gets no more traffic under the baselines either", async () => {
    const world = await load("bouncer.json");
    const c = compare(world, { ...defaultOptions(20_000), seed: 1 });
    for (const [name, r] of Object.entries(c.policies)) {
      const roi = arm(r, "roi");
      expect(roi.pausedAtSends, name).toBeGreaterThan(0);
      expect(roi.sends, name).toBe(roi.pausedAtSends);
      expect(roi.bounces, name).toBeGreaterThanOrEqual(4);
    }
  });

  it("all-bounce.json: the segment is reported blocked and its later leads are not sent", async () => {
    const world = await load("all-bounce.json");
    for (const seed of [1, 2, 3]) {
      const c = compare(world, { ...defaultOptions(3_000), seed });
      for (const [name, r] of Object.entries(c.policies)) {
        expect(r.blocked, `${name} seed ${seed}`).toHaveLength(1);
        const [b] = r.blocked;
        const sent = r.arms.reduce((n, a) => n + a.sends, 0);
        expect(b).toMatchObject({ segment: "all", unsentLeads: 3_000 - sent });
        expect(b!.atLead).toBeLessThan(1_000);
        expect(r.arms.every((a) => a.reason?.startsWith(`Paused '${a.variant}' in all`))).toBe(
          true,
        );
      }
    }
  });
});

describe("the clock and the attribution window", () => {
  /** Every send books a meeting, `days` after it. */
  const late = (days: number) =>
    World.parse({
      name: "late meetings",
      variants: ["a", "b"],
      segments: [
        {
          name: "all",
          share: 1,
          rates: { a: 1, b: 1 },
          outcomes: { "*": { delays: { meeting: { dist: "fixed", hours: days * 24 } } } },
        },
      ],
    });
  const run = (days: number, attributionDays?: number) =>
    simulate(late(days), "uniform", {
      leads: 1_000,
      ...(attributionDays ? { attributionDays } : {}),
    });

  it("a meeting after the window does not count; inside it, it does", () => {
    const after = run(15);
    expect(after.conversions).toBe(0);
    expect(after.outcomes).toMatchObject({ meetings: 0, lateMeetings: 1_000 });
    expect(after.arms.map((a) => a.meetings)).toEqual([0, 0]);
    const inside = run(13);
    expect(inside.conversions).toBe(1_000);
    expect(inside.outcomes.lateMeetings).toBe(0);
    expect(run(15, 20).conversions).toBe(1_000); // a longer window takes it
  });
});

describe("world files v1", () => {
  it("give exactly the figures recorded before world files v2 (fixtures/v1-results.json)", async () => {
    const { cases } = await read(join(import.meta.dirname, "fixtures/v1-results.json"));
    for (const c of cases) {
      const world = await load(c.world);
      // The options `defaultOptions` gave then, as recorded (a policy change is not this test's).
      const now = compare(world, c.options);
      expect(now, c.world).toMatchObject(c.result);
      for (const r of Object.values(now.policies)) {
        expect(r.blocked).toEqual([]);
        expect(r.arms.every((a) => a.pausedAtSends === undefined && a.bounces === 0)).toBe(true);
      }
    }
  });
});
