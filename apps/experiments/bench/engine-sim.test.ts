// `pnpm sim:engine` as a user runs it: a real process, its exit code, stdout and stderr.
// Bad arguments are refused before the engine or a database is loaded.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = await mkdtemp(join(tmpdir(), "pw-engine-sim-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const tiny = join(dir, "tiny.json");
await writeFile(
  tiny,
  JSON.stringify({
    name: "tiny",
    variants: ["a", "b"],
    segments: [{ name: "all", share: 1, rates: { a: 0.05, b: 0.2 } }],
  }),
);

function engineSim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "engine-sim.ts"), ...args], {
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: "" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pnpm sim:engine", () => {
  it.each([
    [["WORLD", "--batch", "0"], 'sim:engine: --batch: "0" is not a whole number in [1, 1000000]'],
    [["WORLD", "-5000"], 'sim:engine: leads: "-5000" is not a whole number ≥ 1'],
    [["WORLD", "abc"], 'sim:engine: leads: "abc" is not a whole number ≥ 1'],
    [
      ["WORLD", "--seed", "xyz"],
      'sim:engine: --seed: "xyz" is not a whole number in [0, 4294967295]',
    ],
    [["WORLD", "--bach", "10"], "sim:engine: --bach: unknown option (did you mean --batch?)"],
    [["WORLD", "--batch"], "sim:engine: --batch: missing value"],
    [
      ["WORLD", "--pg", "--pglite-dir", "kept"],
      "sim:engine: --pglite-dir: not with --pg (choose one database)",
    ],
    [
      ["WORLD", "--pg"],
      'sim:engine: --pg: set DATABASE_URL (eval "$(bash scripts/services.sh env)")',
    ],
    [[], "sim:engine: missing <world.json>"],
  ])("refuses sim:engine %j: exit 2, the reason and a usage line", (argv, message) => {
    const r = engineSim(...argv.map((a) => (a === "WORLD" ? tiny : a)));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")).toEqual([
      message,
      expect.stringMatching(/^usage: pnpm sim:engine /),
      "",
    ]);
    expect(r.stdout).toBe("");
  });

  it("refuses a bad world file with the JSON path of the problem", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        name: "bad",
        variants: ["a", "b"],
        segments: [{ name: "all", share: 1, rates: { a: 0.1, b: 0.2 } }],
        drift: { atFraction: 0.5, rates: { smb: { a: 0.1, b: 0.2 } } },
      }),
    );
    const r = engineSim(bad, "100");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `sim:engine: ${bad}: drift.rates.smb: segment 'smb' is not declared (segments: all)\n`,
    );
  });

  it("a failure while running is its message in one line, exit 1", () => {
    const r = engineSim(tiny, "10", "--pglite-dir", tiny); // a file, not a directory
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sim:engine: EEXIST: .*\n$/);
  });

  it("prints the usage for --help, exit 0", () => {
    const r = engineSim("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pnpm sim:engine <world.json>/);
  });

  // An in-memory PGlite and the whole engine: several seconds on a busy machine.
  it("runs the engine on a tiny world, the last day taking what is left", {
    timeout: 60_000,
  }, () => {
    const r = engineSim(tiny, "70", "--batch", "30", "--seed", "2");
    expect(r.code, r.stderr).toBe(0);
    // The engine's own log lines (JSON, one per line) may precede the summary.
    const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf("{\n")));
    expect(summary).toMatchObject({
      world: "tiny",
      database: "pglite",
      leads: 70,
      batch: 30,
      seed: 2,
    });
    expect(summary.bestTrafficPct + summary.loserTrafficPct).toBeCloseTo(100, 0);
    expect(r.stderr).toContain("70/70 leads");
  });

  it("posts a world file v2's outcomes as the ingest would and reports the engine's guardrail pause", {
    timeout: 60_000,
  }, async () => {
    const v2 = join(dir, "v2.json");
    await writeFile(
      v2,
      JSON.stringify({
        name: "v2",
        variants: ["a", "b"],
        segments: [
          {
            name: "all",
            share: 1,
            rates: { a: 0.05, b: 0.05 },
            outcomes: {
              "*": { reply: 0.3, intents: { objection: 0.5, positive: 0.5 } },
              b: { hardBounce: 0.5 },
            },
          },
        ],
      }),
    );
    const r = engineSim(v2, "80", "--batch", "40", "--seed", "3");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout.slice(r.stdout.indexOf("{\n")));
    const { posted, verdicts } = summary.outcomes;
    expect(posted).toMatchObject({ bounced: expect.any(Number), replied: expect.any(Number) });
    // Every bounce and objection reached the engine as guardrail evidence.
    expect(verdicts.guardrail).toBe(posted.bounced + summary.outcomes.replies.objection);
    const pause = summary.guardrails.find((g: { variant?: string }) => g.variant === "b");
    expect(pause).toMatchObject({ event: "variant_status_changed", segment: "all" });
    expect(pause.reason).toMatch(/^Paused 'b' in all: hard-bounce rate at least/);
    const b = summary.arms.find((a: { variant: string }) => a.variant === "b");
    expect(b).toMatchObject({ status: "paused", reason: pause.reason });
  });
});
