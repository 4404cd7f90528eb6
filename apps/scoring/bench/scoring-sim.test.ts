// `pnpm sim:scoring`: the scoring service learning from settled sends in a world whose
// truth the test knows. Where the market disagrees with the priors, the learned model
// ranks better than the priors and its probabilities are calibrated; where the priors are
// right, learning costs nothing. And the CLI refuses bad arguments like the other sims.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { readWorldFile } from "@pw/simulator";
import { startStackAiServer } from "@pw/stackai/test-server";
import { describe, expect, it } from "vitest";
import { simulateScoring } from "./scoring-sim.ts";

const worlds = join(import.meta.dirname, "../../../data/worlds");

describe("scoring against a known truth", () => {
  it("learns a market that disagrees with the priors: ranks better, calibrated, closes on the truth", {
    timeout: 120_000,
  }, async () => {
    const world = await readWorldFile(join(worlds, "scoring-shifted.json"));
    const r = await simulateScoring(world, {
      seed: 11,
      labels: 2_500,
      evalSize: 5_000,
      checkpointEvery: 2_500,
      batch: 500,
    });
    const [start, end] = [r.checkpoints[0]!, r.checkpoints.at(-1)!];
    expect(start.version).toBe(1);
    expect(start.learned).toEqual(start.priors);
    // The priors promise conversions the market does not deliver.
    expect(start.priors.meanPredicted).toBeGreaterThan(r.baseRate * 3);
    expect(end.version).toBeGreaterThan(1);
    expect(end.learned.auc).toBeGreaterThan(end.priors.auc + 0.01);
    expect(end.truth.auc - end.learned.auc).toBeLessThan(0.03);
    expect(end.learned.ece).toBeLessThan(0.025);
    expect(Math.abs(end.learned.meanPredicted - r.baseRate)).toBeLessThan(0.015);
    expect(r.refits.some((f) => f.outcome === "promoted")).toBe(true);
  });

  it("scores an external scorer (a stackAI flow) on the same held-out leads", {
    timeout: 120_000,
  }, async () => {
    const vendor = await startStackAiServer();
    try {
      const world = await readWorldFile(join(worlds, "scoring-shifted.json"));
      const evalSize = 1_000;
      // A flow that calls every other lead hot: it ranks no better than chance.
      vendor.reply(
        ...Array.from({ length: evalSize }, (_, i) => ({
          out0: { score: i % 2 ? 80 : 10, tier: i % 2 ? "hot" : "cold", segment: "s", reasons: [] },
        })),
      );
      const o = vendor.options("scoring");
      const r = await simulateScoring(world, {
        seed: 3,
        labels: 200,
        evalSize,
        checkpointEvery: 200,
        batch: 200,
        env: {
          STACKAI_BASE_URL: o.baseUrl,
          STACKAI_API_KEY: o.apiKey,
          STACKAI_ORG_ID: o.orgId,
          STACKAI_FLOW_ID: o.flowId,
          ALLOW_INSECURE_VENDOR_URLS: "1",
        },
      });
      expect(r.stackai).toMatchObject({ scored: evalSize, failed: 0 });
      expect(r.stackai!.auc).toBeGreaterThan(0.4);
      expect(r.stackai!.auc).toBeLessThan(0.6);
      expect(r.stackai!.meanPredicted).toBeCloseTo(0.45, 2);
      // The flow was asked about the held-out leads as scoring would ask it.
      expect(vendor.runs).toHaveLength(evalSize);
      expect(vendor.runs[0]!.input).toMatchObject({
        leadId: expect.stringMatching(/^lf_eval-3-/),
        profile: { industry: expect.any(String), employees: expect.any(Number) },
      });
    } finally {
      await vendor.close();
    }
  });

  it("where the priors are right, learning loses nothing", { timeout: 120_000 }, async () => {
    const world = await readWorldFile(join(worlds, "scoring-priors.json"));
    const r = await simulateScoring(world, {
      seed: 12,
      labels: 2_000,
      evalSize: 5_000,
      checkpointEvery: 2_000,
      batch: 500,
    });
    const end = r.checkpoints.at(-1)!;
    expect(end.learned.auc).toBeGreaterThanOrEqual(end.priors.auc - 0.005);
    expect(end.learned.ece).toBeLessThanOrEqual(end.priors.ece + 0.01);
    expect(end.learned.logLoss).toBeLessThanOrEqual(end.priors.logLoss + 0.005);
  });
});

function simScoring(...args: string[]) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "sim-scoring.ts"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pnpm sim:scoring", () => {
  const shifted = join(worlds, "scoring-shifted.json");
  it.each([
    [[shifted, "50"], 'sim:scoring: labels: "50" is not a whole number ≥ 100'],
    [
      [shifted, "--seeds", "1,x"],
      'sim:scoring: --seeds: "x" is not a whole number in [0, 4294967295]',
    ],
    [[shifted, "--evl", "5000"], "sim:scoring: --evl: unknown option (did you mean --eval?)"],
    [[shifted, "--batch", "1"], 'sim:scoring: --batch: "1" is not a whole number in [10, 5000]'],
    [[], "sim:scoring: missing <world.json>"],
    [
      [join(worlds, "five-variants.json")],
      expect.stringMatching(/five-variants\.json: the world has no lead model/),
    ],
  ])("refuses sim:scoring %j: exit 2, the reason and a usage line", (argv, message) => {
    const r = simScoring(...(argv as string[]));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")).toEqual([
      message,
      expect.stringMatching(/^usage: pnpm sim:scoring /),
      "",
    ]);
    expect(r.stdout).toBe("");
  });
});
