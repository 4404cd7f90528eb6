// `pnpm dlq` as a user runs it, for what it answers without a broker: bad arguments and
// settings (exit 2, one line naming the flag or variable) and --help.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function dlq(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "dlq-cli.ts"), ...args], {
    encoding: "utf8",
    env: { ...process.env, KAFKA_BROKERS: "", BUS_DRIVER: "", ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("pnpm dlq", () => {
  it.each([
    [["list", "t", "--bogus"], "dlq: --bogus: unknown option"],
    [["redrive", "t", "--offset", "-1"], 'dlq: --offset: "-1" is not a whole number ≥ 0'],
    [["redrive", "t", "--offset"], "dlq: --offset: missing value"],
    [["redrive", "t", "--offset", "--all"], "dlq: --offset: missing value"],
    [
      ["redrive", "t", "--offset", "1", "--partition", "x"],
      'dlq: --partition: "x" is not a whole number ≥ 0',
    ],
    [["depth", "--json=1"], 'dlq: --json: takes no value (got "1")'],
    [["purge", "t"], 'dlq: unknown command "purge" (depth, list, redrive, drop)'],
    [[], "dlq: missing command (depth, list, redrive, drop)"],
  ])("refuses %j in one line and a usage line, exit 2", (argv, message) => {
    const r = dlq(argv);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")).toEqual([message, expect.stringMatching(/^usage: pnpm dlq /), ""]);
    expect(r.stdout).toBe("");
  });

  it("names a missing setting, exit 2, without connecting", () => {
    const r = dlq(["depth"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("KAFKA_BROKERS");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("prints the usage for --help, exit 0", () => {
    const r = dlq(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: pnpm dlq /);
  });
});
