// A private PostgreSQL server for tests that must stop, restart or kill "the database"
// without disturbing the suites sharing the main one: its own data directory and port,
// from the same Debian server binaries scripts/services.sh installs.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.ts";

const run = promisify(execFile);
// In sbin, which a minimal PATH can lack.
const RUNUSER = ["/usr/sbin/runuser", "/sbin/runuser"].find((p) => existsSync(p)) ?? "runuser";

export type PrivatePostgres = {
  /** `postgres://pw@127.0.0.1:<port>/postgres` (trust auth, loopback only). */
  url: string;
  start(): Promise<void>;
  /** Graceful stop (`-m fast`): connections are closed. */
  stop(): Promise<void>;
  /** As a crash would: SIGKILL-like immediate shutdown, no checkpoint. */
  kill(): Promise<void>;
  destroy(): Promise<void>;
};

function serverBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin/postgres")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

/** Null when this machine has no PostgreSQL server binaries (scripts/services.sh installs them). */
export async function privatePostgres(): Promise<PrivatePostgres | null> {
  const bin = serverBin();
  if (!bin) return null;
  const dir = await mkdtemp(join(tmpdir(), "pw-pg-"));
  const data = join(dir, "data");
  const port = await freePort();
  // initdb refuses to run as root: the server runs as the postgres user, as Debian's does.
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres) {
    const { uid, gid } = postgresUser();
    await chown(dir, uid, gid);
  }
  const pg = (tool: string, args: string[]) =>
    asPostgres
      ? run(RUNUSER, ["-u", "postgres", "--", join(bin, tool), ...args], { timeout: 120_000 })
      : run(join(bin, tool), args, { timeout: 120_000 });
  await pg("initdb", ["-D", data, "-A", "trust", "-U", "pw", "--no-sync"]);
  const ctl = (...args: string[]) => pg("pg_ctl", ["-D", data, "-w", "-t", "60", ...args]);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  return {
    url: `postgres://pw@127.0.0.1:${port}/postgres`,
    start: () => ctl("-o", options, "-l", join(dir, "log"), "start").then(() => {}),
    stop: () => ctl("-m", "fast", "stop").then(() => {}),
    kill: () => ctl("-m", "immediate", "stop").then(() => {}),
    async destroy() {
      await ctl("-m", "immediate", "stop").catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("no postgres user: install the server with scripts/services.sh up");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}
