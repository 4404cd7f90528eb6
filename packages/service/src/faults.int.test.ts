// Fault injection against a PostgreSQL of the test's own (never the shared server):
// - a service under a steady load of enqueues, run as `main` runs it (runMain, in a child
//   process), survives every backend of its database being terminated and a restart of
//   the server, and publishes every committed event exactly once afterwards;
// - a start waits for a database that is not up yet (one log line per attempt) but fails
//   at once on a deterministic error (a schema that is not current);
// - stop() returns within the grace period while the database is down or hung.
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { createMemoryBus } from "@pw/bus";
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { createDb, type Db, migrate, queryRows, SchemaNotCurrentError } from "@pw/db";
import * as scoring from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { type PrivatePostgres, privatePostgres, requireServices, waitFor } from "@pw/testkit";
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoredEvent } from "./fixtures/events.ts";
import { runService } from "./index.ts";

const server = await privatePostgres();
if (!server && requireServices())
  throw new Error("REQUIRE_SERVICES=1 but no PostgreSQL server binaries (scripts/services.sh up)");

const FIXTURE = join(import.meta.dirname, "fixtures/load-service.ts");
const KitConfig = ServiceBaseConfig(0);

/** A connection of the test's own (the admin's), for one piece of work. */
async function admin<T>(url: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const handle = await createDb({ driver: "pg", url, maxConnections: 1 });
  try {
    return await fn(handle.db);
  } finally {
    await handle.close().catch(() => {});
  }
}
const rows = <T>(db: Db, query: SQL) => queryRows<T>(db, query);
const dbUrl = (s: PrivatePostgres, name: string) => s.url.replace(/\/postgres$/, `/${name}`);

/** Log lines written to memory, parsed. */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: createLogger({ service: "faults", level: "info", destination: stream }) };
}

describe.runIf(server)("faults on a private PostgreSQL", () => {
  const pgServer = server!;
  let url: string;
  beforeAll(async () => {
    await pgServer.start();
    await admin(pgServer.url, async (db) => {
      await db.execute(sql`create database pw_faults`);
      await db.execute(sql`create database pw_unmigrated`);
    });
    url = dbUrl(pgServer, "pw_faults");
    const handle = await createDb({ driver: "pg", url });
    await migrate(handle);
    await handle.close();
  });
  afterAll(() => pgServer.destroy());

  it("a service under load survives terminated backends and a restart, and publishes every committed event exactly once", async () => {
    const child: ChildProcess = spawn(process.execPath, [FIXTURE], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        BUS_DRIVER: "memory",
        PORT: "0",
        LOG_LEVEL: "info",
        DATABASE_POOL_MAX: "5",
        SHUTDOWN_GRACE_MS: "5000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output: string[] = [];
    const exits: { code: number | null; signal: string | null }[] = [];
    child.stdout!.on("data", (d) => output.push(...String(d).split("\n").filter(Boolean)));
    child.stderr!.on("data", (d) => output.push(...String(d).split("\n").filter(Boolean)));
    const exited = new Promise<void>((resolve) =>
      child.on("exit", (code, signal) => {
        exits.push({ code, signal });
        resolve();
      }),
    );
    try {
      const base = await waitFor(
        () => output.map((l) => /"url":"(http:[^"]+)"/.exec(l)?.[1]).find(Boolean),
        { timeoutMs: 30_000, message: "the fixture to listen" },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\n${output.join("\n")}`);
      });
      type Load = { committed: string[]; failed: number; published: string[] };
      const load = async () => (await (await fetch(`${base}/load`)).json()) as Load;
      // Fails at once if the service exits meanwhile, with what it logged.
      const died = exited.then(() => {
        throw new Error(`the service exited: ${JSON.stringify(exits)}\n${output.join("\n")}`);
      });
      died.catch(() => {});
      // A stall says where it stood: commits, failures, the slowest enqueue, the last error,
      // and what the service logged.
      const committedAtLeast = (n: number, what: string) =>
        Promise.race([
          died,
          waitFor(async () => (await load()).committed.length >= n, {
            timeoutMs: 30_000,
            message: what,
          }).catch(async (e: Error) => {
            const l = (await load().catch(() => undefined)) as
              | (Load & { slowestMs?: number; lastError?: string })
              | undefined;
            const state = l
              ? {
                  committed: l.committed.length,
                  failed: l.failed,
                  slowestMs: l.slowestMs,
                  lastError: l.lastError,
                }
              : "the fixture does not answer";
            throw new Error(
              `${e.message}; ${JSON.stringify(state)}\n${output.slice(-40).join("\n")}`,
            );
          }),
        ]);
      await committedAtLeast(200, "a steady load");

      // 1. Every backend of the service's database terminated, a few times over.
      let terminated = 0;
      for (let round = 0; round < 5; round++) {
        terminated += await admin(pgServer.url, async (db) => {
          // Two steps: in one, the planner may call pg_terminate_backend before the filter.
          const backends = await rows<{ pid: number }>(
            db,
            sql`select pid from pg_stat_activity where datname = 'pw_faults'`,
          );
          for (const { pid } of backends)
            await db.execute(sql`select pg_terminate_backend(${pid})`);
          return backends.length;
        });
        await new Promise((r) => setTimeout(r, 150));
      }
      const afterTerminate = (await load().catch(() => undefined))?.committed.length ?? 0;
      await committedAtLeast(afterTerminate + 200, "the load to go on after the terminations");

      // 2. The server restarted (fast stop: every connection closed, then refused).
      await pgServer.stop();
      await new Promise((r) => setTimeout(r, 500));
      await pgServer.start();
      const afterRestart = (await load()).committed.length;
      await committedAtLeast(afterRestart + 200, "the load to go on after the restart");

      await fetch(`${base}/load/stop`, { method: "POST" });
      const outbox = await waitFor(
        () =>
          admin(url, async (db) => {
            const r = await rows<{ event_id: string; published: boolean }>(
              db,
              sql`select event_id, published_at is not null as published
                  from scoring.outbox order by id`,
            );
            return r.every((x) => x.published) ? r : undefined;
          }),
        { timeoutMs: 30_000, message: "every committed row to be published" },
      );
      const { committed, failed, published } = await load();
      const stored = outbox!.map((r) => r.event_id);
      const figures = {
        terminated,
        committed: committed.length,
        failedEnqueues: failed,
        rows: stored.length,
        published: published.length,
        duplicates: published.length - new Set(published).size,
        committedButNotStored: committed.filter((id) => !stored.includes(id)).length,
        storedButNotPublished: stored.filter((id) => !published.includes(id)).length,
        exits: exits.length,
      };
      console.info("faults: terminate + restart under load", figures);
      expect(figures).toMatchObject({
        duplicates: 0,
        committedButNotStored: 0,
        storedButNotPublished: 0,
        exits: 0,
      });
      expect(new Set(published)).toEqual(new Set(stored));
      expect(terminated).toBeGreaterThan(0);

      child.kill("SIGTERM");
      await exited;
      expect(exits).toEqual([{ code: 0, signal: null }]);
    } finally {
      if (exits.length === 0) child.kill("SIGKILL");
    }
  });

  it("start waits for a database that is not up yet, one log line per attempt, and fails at once on an old schema", async () => {
    await pgServer.stop();
    const { lines, logger } = capture();
    const config = parseConfig(KitConfig, {
      PORT: "0",
      DATABASE_URL: url,
      STARTUP_WAIT_MS: "30000",
    });
    const started = Date.now();
    const starting = runService({
      name: "waiter",
      config,
      deps: { logger, listen: false, bus: createMemoryBus() },
      build: () => ({}),
    });
    const outcome = starting.then(
      () => "started",
      (e: Error) => `failed: ${e.message}`,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    await pgServer.start();
    expect(await outcome).toBe("started");
    const attempts = lines.filter((l) => l.dependency === "database");
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts[0]).toMatchObject({
      level: "warn",
      attempt: 1,
      reason: expect.stringContaining("ECONNREFUSED"),
    });
    expect(attempts.every((l) => !("err" in l) && !("stack" in l))).toBe(true);
    console.info("faults: start waited", {
      ms: Date.now() - started,
      attemptsLogged: attempts.length,
    });
    await (await starting).stop();

    const refusedAt = Date.now();
    const refused = await runService({
      name: "stale",
      config: parseConfig(KitConfig, {
        PORT: "0",
        DATABASE_URL: dbUrl(pgServer, "pw_unmigrated"),
        STARTUP_WAIT_MS: "30000",
      }),
      deps: { logger, listen: false, bus: createMemoryBus() },
      build: () => ({}),
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SchemaNotCurrentError);
    expect(Date.now() - refusedAt).toBeLessThan(5_000);
  });

  /** Every process of the private server (postmaster and its children). */
  async function serverPids(): Promise<number[]> {
    const ppid = (pid: number) =>
      Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    // Read while the backend still exists: it exits with the admin connection.
    const postmaster = await admin(url, async (db) => {
      const [backend] = await rows<{ pid: number }>(db, sql`select pg_backend_pid() as pid`);
      return ppid(backend!.pid);
    });
    const children = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          return ppid(pid) === postmaster;
        } catch {
          return false;
        }
      });
    return [postmaster, ...children];
  }

  for (const fault of ["killed", "hung"] as const) {
    it(`stop() returns within the grace period while the database is ${fault}`, async () => {
      const config = parseConfig(KitConfig, {
        PORT: "0",
        DATABASE_URL: url,
        SHUTDOWN_GRACE_MS: "1500",
        DATABASE_QUERY_TIMEOUT_MS: "60000",
      });
      const { logger } = capture();
      const service = await runService({
        name: `stop-${fault}`,
        config,
        deps: { logger, listen: false, bus: createMemoryBus() },
        build: (kit) =>
          kit.messaging({ outbox: scoring.scoringOutbox, inbox: scoring.scoringInbox }),
      });
      for (let n = 0; n < 20; n++)
        await service.handle.db.transaction((tx) =>
          service.outbox.enqueue(tx, Topics.leadScored, [scoredEvent(`lead-${n % 5}`)]),
        );
      let resume = async () => {};
      if (fault === "killed") await pgServer.kill();
      else {
        const pids = await serverPids();
        const signal = (s: NodeJS.Signals) => {
          for (const pid of pids) {
            try {
              process.kill(pid, s);
            } catch {
              // a backend that has just exited
            }
          }
        };
        signal("SIGSTOP");
        resume = async () => signal("SIGCONT");
        // Something is in flight against the hung server when the stop begins.
        void service.handle.db.execute(sql`select 1`).catch(() => {});
      }
      try {
        const started = Date.now();
        await service.stop();
        const ms = Date.now() - started;
        console.info(`faults: stop() with the database ${fault}`, { ms, graceMs: 1500 });
        expect(ms).toBeLessThan(1_500 + 500);
      } finally {
        await resume();
        if (fault === "killed") await pgServer.start();
      }
    });
  }
});
