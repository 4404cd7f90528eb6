// `pnpm gateway:operator`: `hash` prints a hash that verifies (and nothing else); `add`,
// `list` and `disable` against an embedded database directory.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyPassword } from "./auth/password.ts";
import { runCli } from "./operator-cli.ts";

const CLI = fileURLToPath(new URL("./operator-cli.ts", import.meta.url));
const PASSWORD = "a long enough passphrase";

function io(env: Record<string, string>, stdin = `${PASSWORD}\n`) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdin: Readable.from([stdin]),
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      env,
    },
  };
}

describe("gateway:operator", { timeout: 60_000 }, () => {
  it("hash: prints one scrypt hash that verifies the password from stdin, never the password", async () => {
    const run = spawnSync(process.execPath, [CLI, "hash"], {
      input: `${PASSWORD}\n`,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^scrypt\$/);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, lines[0]!)).toBe(true);
    expect(await verifyPassword("another passphrase", lines[0]!)).toBe(false);
  });

  it("refuses a short password and an unknown command", async () => {
    const short = io({}, "short\n");
    expect(await runCli(["hash"], short.io)).toBe(1);
    expect(short.err.join()).toMatch(/at least 12/);
    const usage = io({});
    expect(await runCli(["frobnicate"], usage.io)).toBe(2);
    expect(usage.err.join()).toMatch(/usage/);
  });

  it("add, list and disable against the embedded database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pw-gateway-cli-"));
    const env = { PGLITE_DIR: dir };
    try {
      const add = io(env);
      expect(await runCli(["add", "ada", "admin"], add.io)).toBe(0);
      expect(add.out).toEqual(["ada (admin) added"]);
      expect(await runCli(["add", "ada", "root"], io(env).io)).toBe(1);
      const list = io(env);
      expect(await runCli(["list"], list.io)).toBe(0);
      expect(list.out[0]).toMatch(/^ada\tadmin\tactive\t/);
      expect(list.out.join()).not.toContain("scrypt");
      const disable = io(env);
      expect(await runCli(["disable", "ada"], disable.io)).toBe(0);
      const after = io(env);
      await runCli(["list"], after.io);
      expect(after.out[0]).toMatch(/^ada\tadmin\tdisabled\t/);
      expect(await runCli(["disable", "nobody"], io(env).io)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
