import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_POLICY } from "@pw/bandit";
import type { DecisionContext as StoredContext } from "@pw/db/experiments";
import type { World } from "@pw/simulator";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { type DecisionContext, readJsonl, toJsonl } from "./decision-log.ts";
import { simulateLogs } from "./simulate.ts";

const dir = await mkdtemp(join(tmpdir(), "pw-ope-log-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const world: World = {
  name: "two variants",
  variants: ["a", "b"],
  segments: [{ name: "all", share: 1, rates: { a: 0.1, b: 0.2 } }],
};
const context = {
  arms: [
    { id: "a", successes: 1, failures: 9, exposures: 10, status: "active" },
    { id: "b", successes: 2, failures: 8, exposures: 10, status: "suppressed" },
  ],
  policy: DEFAULT_POLICY,
};

describe("JSONL decision logs", () => {
  it("reads back what the simulator writes", async () => {
    const logs = simulateLogs(world, { leads: 1_200, seed: 5 });
    const file = join(dir, "sim.jsonl");
    await writeFile(file, `${logs.map(toJsonl).join("\n")}\n`);
    const read = await readJsonl(file);
    expect(read.records).toEqual(logs);
    expect(Object.values(read.skipped).every((n) => n === 0)).toBe(true);
  });

  it("skips and counts decisions it cannot evaluate, and stops at a line that is not a decision", async () => {
    const line = (extra: object) =>
      JSON.stringify({ segment: "all", variant_id: "a", propensity: 0.5, context, ...extra });
    const file = join(dir, "mixed.jsonl");
    await writeFile(
      file,
      [
        line({ request_id: "r1", reward: 1 }),
        line({ request_id: "r2", rewarded: false }), // the table's column name
        line({ request_id: "r3", reward: null }),
        line({ request_id: "r4", reward: 0, context: null }),
        line({ request_id: "r5", reward: 0, variant_id: "b" }),
        line({ request_id: "r6", reward: 1, propensity: 0 }),
        line({ request_id: "r7", reward: 1, context: { arms: [] } }),
        "",
      ].join("\n"),
    );
    const read = await readJsonl(file);
    expect(read.records.map((r) => [r.requestId, r.reward])).toEqual([
      ["r1", 1],
      ["r2", 0],
    ]);
    expect(read.skipped).toEqual({
      unsettled: 1,
      no_context: 1,
      action_not_active: 1,
      bad_propensity: 1,
      invalid_context: 1,
    });
    expect(read.examples).toContain(
      "r7: context.arms: Too small: expected array to have >=1 items",
    );

    await writeFile(file, `${line({ reward: 1 })}\n{"segment": "all"}\n`);
    await expect(readJsonl(file)).rejects.toThrow(`${file}:2: variant_id:`);
    await writeFile(file, "not json\n");
    await expect(readJsonl(file)).rejects.toThrow(`${file}:1: not valid JSON`);
  });

  it("reads the context the engine stores in experiments.decisions.context", () => {
    // Checked by `pnpm typecheck`: a field renamed or added on either side fails it.
    expectTypeOf<StoredContext>().toEqualTypeOf<DecisionContext>();
  });
});
