/**
 * One process of the stack: spawned with its output in its own log file, watched until
 * it answers its readiness URL (or exits, with the end of its log as the reason), and
 * stopped by pid — the same way whether the caller still holds the child (the test, the
 * bench) or only the pid recorded in state.json (`pnpm stack down` from another shell).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readlinkSync } from "node:fs";

export type ProcessSpec = {
  /** `scoring-2`: the app and its instance number. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Its log file (truncated at start). */
  log: string;
  /**
   * Its own process group, left running when the caller exits (`pnpm stack`); stopped
   * as a group, so that anything it forked goes too.
   */
  detached: boolean;
};

export type Spawned = {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Resolves when the process has exited, however. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
};

export function spawnLogged(spec: ProcessSpec): Spawned {
  const fd = openSync(spec.log, "w", 0o600);
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env as NodeJS.ProcessEnv,
      stdio: ["ignore", fd, fd],
      detached: spec.detached,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${spec.name}: could not start ${spec.command}`);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once("error", () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  if (spec.detached) child.unref();
  return { name: spec.name, pid: child.pid, child, exited, alive: () => !done };
}

/** The last `lines` lines of a log file ("" when there is none). */
export function logTail(file: string, lines = 25): string {
  if (!existsSync(file)) return "";
  const text = readFileSync(file, "utf8").trimEnd();
  return text.split("\n").slice(-lines).join("\n");
}

export type ReadyResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * Polls `url` until it answers 200, the process exits, or `timeoutMs` passes. A service's
 * `/readyz` is 503 until its database, broker and consumers are up.
 */
export async function waitReady(
  p: Pick<Spawned, "alive" | "exited">,
  url: string,
  timeoutMs: number,
): Promise<ReadyResult> {
  const started = Date.now();
  let last = "no answer yet";
  while (Date.now() - started < timeoutMs) {
    if (!p.alive()) {
      const { code, signal } = await p.exited;
      return { ok: false, reason: `exited (${signal ?? `code ${code}`}) before it was ready` };
    }
    const r = await probe(url, 2_000);
    if (r.status === 200) return { ok: true, ms: Date.now() - started };
    last = r.status ? `${url} answered ${r.status}: ${r.body.slice(0, 300)}` : r.error;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { ok: false, reason: `not ready after ${Math.round(timeoutMs / 1000)} s (${last})` };
}

/** One GET with a deadline: its status and the start of its body (4 kB), or why it failed. */
export async function probe(
  url: string,
  timeoutMs: number,
): Promise<{ status: number; body: string; error: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 4_000).replace(/\s+/g, " ");
    return { status: res.status, body, error: "" };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: "", error: cause ?? (error as Error).name };
  }
}

/** Whether `pid` is a live process (signal 0 probes without signalling). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but someone else's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether `pid` is still the process we started there (its working directory is the
 * app's), so that a pid the OS reused after a crash is never signalled. Where /proc is
 * missing (not Linux), the pid is trusted.
 */
export function pidIsOurs(pid: number, cwd: string): boolean {
  if (!pidAlive(pid)) return false;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === cwd;
  } catch {
    return !existsSync("/proc/self/cwd");
  }
}

export type Stoppable = { name: string; pid: number; group: boolean; cwd: string };

/**
 * SIGTERM to each (its group when it leads one), then SIGKILL to whatever is left after
 * `timeoutMs`. Resolves with what had to be killed. Reports each exit through `progress`.
 */
export async function stopAll(
  list: readonly Stoppable[],
  o: { timeoutMs: number; progress?: (line: string) => void },
): Promise<{ killed: string[] }> {
  const signal = (p: Stoppable, sig: NodeJS.Signals) => {
    try {
      process.kill(p.group ? -p.pid : p.pid, sig);
    } catch {
      // gone already
    }
  };
  const running = list.filter((p) => pidIsOurs(p.pid, p.cwd));
  for (const p of running) signal(p, "SIGTERM");
  const deadline = Date.now() + o.timeoutMs;
  let left = running;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const still = left.filter((p) => pidAlive(p.pid));
    for (const p of left) if (!still.includes(p)) o.progress?.(`  stopped ${p.name}`);
    left = still;
  }
  for (const p of left) {
    o.progress?.(`  ${p.name} did not stop within ${o.timeoutMs / 1000} s: SIGKILL`);
    signal(p, "SIGKILL");
  }
  return { killed: left.map((p) => p.name) };
}
