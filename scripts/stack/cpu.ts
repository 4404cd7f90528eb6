/**
 * Where the CPU goes, from /proc (Linux): the CPU time each of the stack's processes,
 * Kafka, PostgreSQL (all its backends) and the caller used between two snapshots, and
 * how busy the machine's cores were. On a small machine the pipeline's throughput is its
 * cores divided by the CPU one lead costs; this says which process that cost is in.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** user + system CPU of `pid` so far, in ms (0 when it is gone). */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

/** Pids whose command line matches `test`. */
function pidsWhere(test: (cmdline: string, comm: string) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      if (test(cmdline, comm)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export type CpuSnapshot = {
  at: number;
  byName: Map<string, number>;
  busyMs: number;
  totalMs: number;
};

/** Busy and total CPU time of the whole machine (all cores), in ms. */
function machine(): { busyMs: number; totalMs: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const n = line.trim().split(/\s+/).slice(1).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return { busyMs: ((total - idle) * 1000) / TICKS, totalMs: (total * 1000) / TICKS };
}

/**
 * CPU so far of each named process (`scoring-1` …), of Kafka and of PostgreSQL (summed
 * over its processes; a backend that exited since the last snapshot takes its time with
 * it, so PostgreSQL's figure is a floor), and of this process.
 */
export function cpuSnapshot(named: readonly { name: string; pid: number }[]): CpuSnapshot {
  const byName = new Map<string, number>();
  for (const p of named) byName.set(p.name, cpuMsOf(p.pid));
  const sum = (pids: number[]) => pids.reduce((ms, pid) => ms + cpuMsOf(pid), 0);
  byName.set("kafka", sum(pidsWhere((cmd) => cmd.includes("kafka.Kafka"))));
  byName.set("postgresql", sum(pidsWhere((_cmd, comm) => comm.startsWith("postgres"))));
  const self = process.cpuUsage();
  byName.set("bench (load + tap)", (self.user + self.system) / 1000);
  return { at: Date.now(), byName, ...machine() };
}

/** CPU ms used between two snapshots, per name, and the machine's busy share. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot) {
  const byName = new Map<string, number>();
  for (const [name, ms] of b.byName) byName.set(name, Math.max(0, ms - (a.byName.get(name) ?? 0)));
  const busyMs = b.busyMs - a.busyMs;
  const measuredMs = [...byName.values()].reduce((n, x) => n + x, 0);
  return {
    wallMs: b.at - a.at,
    byName,
    busyShare: busyMs / Math.max(1, b.totalMs - a.totalMs),
    /** Busy CPU the named processes do not account for: other work on the machine. */
    otherShare: Math.max(0, busyMs - measuredMs) / Math.max(1, b.totalMs - a.totalMs),
  };
}
