// `pnpm sim` as a user runs it: a real process, its exit code, stdout and stderr.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = await mkdtemp(join(tmpdir(), "pw-sim-cli-"));
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

function sim(...args: string[]) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "cli.ts"), ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pnpm sim", () => {
  it.each([
    [["WORLD", "-5000"], 'sim: leads: "-5000" is not a whole number ≥ 1'],
    [["WORLD", "--", "-5000"], 'sim: leads: "-5000" is not a whole number ≥ 1'],
    [["WORLD", "0"], 'sim: leads: "0" is not a whole number ≥ 1'],
    [["WORLD", "abc"], 'sim: leads: "abc" is not a whole number ≥ 1'],
    [["WORLD", "--seed", "xyz"], 'sim: --seed: "xyz" is not a whole number in [0, 4294967295]'],
    [["WORLD", "--drift-discount", "2"], 'sim: --drift-discount: "2" is not a number in (0, 1]'],
    [["WORLD", "--pooled-prior=-3"], 'sim: --pooled-prior: "-3" is not a number ≥ 0'],
    [["WORLD", "--sed", "2"], "sim: --sed: unknown option (did you mean --seed?)"],
    [
      ["WORLD", "--leads-per-day", "0"],
      'sim: --leads-per-day: "0" is not a whole number in [1, 1000000]',
    ],
    [["WORLD", "--window-days", "120"], 'sim: --window-days: "120" is not a number in [1, 90]'],
    [["WORLD", "--seed"], "sim: --seed: missing value"],
    [["WORLD", "100", "200"], 'sim: unexpected argument "200"'],
    [[], "sim: missing <world.json>"],
  ])("refuses sim %j: exit 2, the reason and a usage line", (argv, message) => {
    const r = sim(...argv.map((a) => (a === "WORLD" ? tiny : a)));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")).toEqual([message, expect.stringMatching(/^usage: pnpm sim /), ""]);
    expect(r.stdout).toBe("");
  });

  it("refuses a bad world file with the JSON path of the problem", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        name: "bad",
        variants: ["a", "b"],
        segments: [
          { name: "all", share: 1, rates: { a: 0.1, b: 0.2 } },
          { name: "smb", share: 1, rates: { a: 0.1, b: 0.2, roi: 0.3 } },
        ],
      }),
    );
    const r = sim(bad, "100");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `sim: ${bad}: segments[1].rates.roi: variant 'roi' is not declared (segment 'smb'; variants: a, b)\n`,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(sim(join(dir, "missing.json")).stderr).toBe(
      `sim: ${join(dir, "missing.json")}: cannot read (ENOENT)\n`,
    );
  });

  it("runs a good command line and prints one JSON summary", () => {
    const r = sim(tiny, "600", "--seed", "3", "--pooled-prior", "0", "--drift-discount", "0.9");
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({
      world: "tiny",
      leads: 600,
      settings: { pooledPrior: { strength: 0 }, discountPerBatch: 0.9 },
    });
    expect(s.policies.thompson.regretPct).toEqual(expect.any(Number));
  });

  it("runs a world file v2 on its clock and reports guardrail pauses", () => {
    const bouncer = join(import.meta.dirname, "../../../data/worlds/bouncer.json");
    const r = sim(bouncer, "3000", "--leads-per-day", "200", "--window-days", "7");
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.settings).toMatchObject({ leadsPerDay: 200, attributionDays: 7 });
    expect(s.settings.guardrails).toMatchObject({ bounceRate: 0.05, confidence: 0.8 });
    const roi = s.policies.thompson.arms.find((a: { variant: string }) => a.variant === "roi");
    expect(roi.reason).toMatch(/^Paused 'roi' in all: hard-bounce rate at least/);
  });

  it("prints the usage for --help, exit 0", () => {
    const r = sim("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pnpm sim <world.json>/);
    expect(r.stdout).toContain("--drift-discount");
  });
});
