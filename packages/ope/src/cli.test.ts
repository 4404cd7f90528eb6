// The command as a user runs it: a real process, its exit code, stdout and stderr.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_POLICY } from "@pw/bandit";
import { createDb, migrate } from "@pw/db";
import { afterAll, describe, expect, it } from "vitest";
import { parseOpeArgs, UsageError } from "./args.ts";

const root = join(import.meta.dirname, "../../..");
const world = "data/worlds/five-variants.json";
const tmp = await mkdtemp(join(tmpdir(), "pw-ope-cli-"));
afterAll(() => rm(tmp, { recursive: true, force: true }));

function ope(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "cli.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: "", ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pnpm ope arguments", () => {
  it("names the flag and the reason for every bad argument", () => {
    const bad = (argv: string[], message: string) => {
      expect(() => parseOpeArgs(argv), argv.join(" ")).toThrow(UsageError);
      expect(() => parseOpeArgs(argv), argv.join(" ")).toThrow(message);
    };
    bad(["--candidate", "uniform"], "no log source");
    bad(["--logs", "a.jsonl", "--db", "--candidate", "uniform"], "--logs, --db: give exactly one");
    bad(["--simulate", world], "--candidate: give at least one");
    bad(["--simulate", world, "--candidate", "thompson:floor=2"], "--candidate thompson:floor=2");
    bad(["--simulate", world, "--leads", "abc", "--candidate", "uniform"], '--leads: "abc" is not');
    bad(["--simulate", world, "--leads", "0", "--candidate", "uniform"], "--leads");
    bad(["--simulate", world, "--draws", "5", "--candidate", "uniform"], "--draws");
    bad(["--simulate", world, "--logging", "greedy", "--candidate", "uniform"], "--logging");
    bad(["--logs", "a.jsonl", "--leads", "10", "--candidate", "uniform"], "--leads: only applies");
    bad(["--logs", "", "--candidate", "uniform"], "--logs: needs a path");
    bad(["--simulate", world, "--candidate", "uniform", "--verbose"], "--verbose");
    bad(["--simulate", world, "--candidate", "uniform", "extra"], 'unexpected argument "extra"');
    expect(parseOpeArgs(["--help"])).toBe("help");
  });

  it("exits 2 with a message on stderr for bad arguments and unusable inputs", () => {
    for (const [argv, message] of [
      [[], "ope: no log source"],
      [["--simulate", world, "--candidate", "thompson:prior=2"], "--candidate thompson:prior=2:"],
      [["--logs", join(tmp, "missing.jsonl"), "--candidate", "uniform"], "--logs: cannot read"],
      [["--simulate", "package.json", "--candidate", "uniform"], "--simulate: package.json: "],
      [["--db", "--candidate", "uniform"], "--db: DATABASE_URL is not set"],
      [["--pglite", join(tmp, "nope"), "--candidate", "uniform"], "is not a directory"],
      [["--simulate", world, "--leads", "600", "--candidate", "fixed:nope"], 'variant "nope"'],
    ] as const) {
      const r = ope([...argv]);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe("");
    }
  });

  it.each([
    [
      ["--simulate", world, "--seed", "-3"],
      'ope: --seed: "-3" is not a whole number in [0, 4294967295]',
    ],
    [
      ["--simulate", world, "--seed", "xyz"],
      'ope: --seed: "xyz" is not a whole number in [0, 4294967295]',
    ],
    [["--simulate", world, "--leads", "0"], 'ope: --leads: "0" is not a whole number ≥ 1'],
    [["--simulate", world, "--draws=abc"], 'ope: --draws: "abc" is not a whole number ≥ 100'],
    [
      ["--simulate", world, "--cadidate", "uniform"],
      "ope: --cadidate: unknown option (did you mean --candidate?)",
    ],
    [["--simulate"], "ope: --simulate: missing value"],
    [["--simulate", world, "--json=yes"], 'ope: --json: takes no value (got "yes")'],
  ])("refuses %j in one line and a usage line, exit 2", (argv, message) => {
    const r = ope([...argv, "--candidate", "uniform"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")).toEqual([message, expect.stringMatching(/^usage: pnpm ope /), ""]);
    expect(r.stdout).toBe("");
  });

  it("refuses a world file with the JSON path of each problem", async () => {
    const bad = join(tmp, "bad-world.json");
    await writeFile(
      bad,
      JSON.stringify({
        name: "bad",
        variants: ["a", "b", "a"],
        segments: [{ name: "all", share: 1, rates: { a: 0.1, b: 0.2 } }],
      }),
    );
    const r = ope(["--simulate", bad, "--candidate", "uniform"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `ope: --simulate: ${bad}: variants[2]: variant 'a' is declared twice (also variants[0])\n`,
    );
  });

  it("a failure while running is its message in one line, exit 1", async () => {
    const empty = join(tmp, "empty.jsonl");
    await writeFile(empty, "");
    const r = ope(["--logs", empty, "--candidate", "uniform"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("ope: no decision to evaluate\n");
  });

  it("prints the usage for --help, exit 0", () => {
    const r = ope(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pnpm ope /);
  });

  it("prints one JSON summary of a simulated evaluation, with the true values", () => {
    const r = ope([
      "--simulate",
      world,
      "--leads",
      "3000",
      "--seed",
      "4",
      "--candidate",
      "fixed:case_study",
      "--candidate",
      "thompson:floor=0.05",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.source).toMatchObject({ kind: "simulate", leads: 3000, seed: 4, logging: "thompson" });
    expect(s.records).toMatchObject({ used: 3000, skipped: 0 });
    expect(s.candidates.map((c: { spec: string }) => c.spec)).toEqual([
      "fixed:case_study",
      "thompson:floor=0.05",
    ]);
    for (const c of s.candidates) {
      expect(Object.keys(c).sort()).toEqual(
        ["ess", "ips", "ipsCi", "maxWeight", "snips", "snipsCi", "spec", "true"].sort(),
      );
      expect(c.ipsCi[0]).toBeLessThan(c.ips);
      expect(c.ipsCi[1]).toBeGreaterThan(c.ips);
    }
    expect(s.logged.true).toBeGreaterThan(0);
  });

  // A new PGlite directory costs an initdb (several seconds on a busy machine).
  it("evaluates the decisions in a PGlite directory and prints a table", {
    timeout: 40_000,
  }, async () => {
    const dir = join(tmp, "pglite");
    const handle = await createDb({ driver: "pglite", dir });
    await migrate(handle);
    await handle.db.execute(
      "alter table experiments.decisions add column if not exists context jsonb",
    );
    const context = JSON.stringify({
      arms: ["a", "b"].map((id) => ({
        id,
        successes: 0,
        failures: 10,
        exposures: 10,
        status: "active",
      })),
      policy: DEFAULT_POLICY,
    });
    await handle.db.execute(
      `insert into experiments.decisions
         (request_id, lead_id, segment, variant_id, policy, propensity, settled_at, rewarded, context)
       values ('q1', 'l1', 's', 'a', 'burn_in', 0.5, now(), true, '${context}'),
              ('q2', 'l2', 's', 'b', 'burn_in', 0.5, now(), false, '${context}'),
              ('q3', 'l3', 's', 'b', 'burn_in', 0.5, now(), false, null)`,
    );
    await handle.close();
    const r = ope(["--pglite", dir, "--candidate", "fixed:a"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("2 settled decisions from experiments.decisions (PGlite");
    expect(r.stdout).toMatch(/fixed:a\s+1\.0000/); // IPS: (1·2 + 0) / 2
    expect(r.stdout).toContain("1 decisions skipped (no_context 1)");
  });
});
