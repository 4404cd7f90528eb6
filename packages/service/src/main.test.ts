// `runMain` as a process: whatever goes wrong after (or during) start ends the process with
// a non-zero exit code and exactly one structured log line saying what happened; a
// database that never answers is waited for (one line per attempt), then given up on.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const FIXTURE = join(import.meta.dirname, "fixtures/main-fails.ts");

function run(
  failure: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { ...process.env, FIXTURE_FAILURE: failure, LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the process did not exit within 15 s:\n${out}`));
    }, 15_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split("\n").filter(Boolean) });
    });
  });
}

describe("runMain", () => {
  it.each([
    ["rejection", "unhandled rejection", "nobody awaited this"],
    ["exception", "uncaught exception", "thrown from a timer"],
    ["start", "main-fixture failed to start", "could not open what it needs"],
  ])("exits non-zero with one JSON line on %s", async (failure, msg, cause) => {
    const { code, lines } = await run(failure);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: string; msg: string; err: { message: string } };
    expect(line).toMatchObject({ level: "fatal", msg, service: "main-fixture" });
    expect(line.err.message).toBe(cause);
  });

  it("waits for a database that does not answer, one line per attempt, then exits 1 without a stack", async () => {
    const { code, lines } = await run("unreachable", {
      DATABASE_URL: "postgres://pw@127.0.0.1:1/nowhere",
      BUS_DRIVER: "memory",
      STARTUP_WAIT_MS: "1500",
      PORT: "0",
    });
    expect(code).toBe(1);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const attempts = parsed.filter((l) => l.msg === "database not reachable yet; retrying");
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts[0]).toMatchObject({ level: "warn", dependency: "database", attempt: 1 });
    expect(parsed.at(-1)).toMatchObject({
      level: "fatal",
      msg: "main-fixture cannot start",
      reason: expect.stringMatching(/database still unreachable after \d+ s .*ECONNREFUSED/),
    });
    expect(lines.some((l) => l.includes('"stack"'))).toBe(false);
  });
});
