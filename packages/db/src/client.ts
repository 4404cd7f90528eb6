/**
 * One database API over two drivers: node-postgres against a real PostgreSQL
 * (distributed mode) and PGlite, embedded Postgres compiled to WASM, persisted
 * to a directory (the embedded default). Repository code takes a `Db` and
 * never knows which one it got.
 */
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "@pw/logger";
import type { SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";

/**
 * No relational schema: `db.query.<table>` would hand every service every table. A
 * service reaches its own tables through `@pw/db/<owner>` and the query builder.
 */
export type Db = PgDatabase<PgQueryResultHKT>;
/** What `db.transaction(fn)` hands `fn`. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Anything that can run a query: the database or a transaction. */
export type Executor = Db | Tx;

export type DbHandle = {
  db: Db;
  driver: "pg" | "pglite";
  close(): Promise<void>;
  /**
   * PostgreSQL only: a connection of its own, outside the pool, for what lives in a session
   * (advisory locks) or must not be cut short by the pool's timeouts (migrations). Closed
   * by `close()` at the latest. Timeouts default to the pool's; 0 disables one.
   */
  session?(timeouts?: Timeouts): Promise<DbSession>;
};

export type Timeouts = {
  /** Server side (`statement_timeout`): PostgreSQL cancels a longer statement (57014). */
  statementTimeoutMs?: number;
  /** Client side (`query_timeout`): a query with no answer after this long fails. */
  queryTimeoutMs?: number;
};

export type DbSession = {
  readonly db: Db;
  /** False once the connection failed or ended: whatever the session held (locks) is gone. */
  readonly alive: boolean;
  close(): Promise<void>;
};

export type DbOptions =
  | ({ driver: "pg"; url: string; maxConnections?: number } & Timeouts)
  /** `dir` undefined: in memory (tests). */
  | { driver: "pglite"; dir?: string };

/** A connection that will not close politely (a hung server) is cut after this long. */
const SESSION_CLOSE_MS = 1_000;

export async function createDb(
  options: DbOptions,
  hooks: { logger?: Logger } = {},
): Promise<DbHandle> {
  if (options.driver === "pg") return createPg(options, hooks.logger);
  if (options.dir) await mkdir(options.dir, { recursive: true });
  const client = options.dir ? new PGlite(options.dir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(client, { casing: "snake_case" }) as unknown as Db;
  return { db, driver: "pglite", close: () => client.close() };
}

function createPg(options: Extract<DbOptions, { driver: "pg" }>, logger?: Logger): DbHandle {
  const settings = (t: Timeouts): pg.ClientConfig => ({
    connectionString: options.url,
    connectionTimeoutMillis: 5_000,
    // A peer that vanished without closing (host down, network cut) is noticed eventually
    // even on an idle connection; the timeouts below cover a query in flight.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(t.statementTimeoutMs ? { statement_timeout: t.statementTimeoutMs } : {}),
    ...(t.queryTimeoutMs ? { query_timeout: t.queryTimeoutMs } : {}),
  });
  // A connection can die while its client is checked out (the server restarts, a backend
  // is terminated): pg then emits 'error' on the client, and the pool listens only while
  // the client is idle. Unheard, that error ends the process. Every client gets a listener
  // for its whole life; the work in flight fails with its own error, and the pool drops
  // the dead client when it is released (it is no longer queryable).
  const lost = (err: Error) =>
    logger?.warn({ reason: err.message }, "database connection lost; it will be replaced");
  const pool = new pg.Pool({ ...settings(options), max: options.maxConnections ?? 10 });
  pool.on("connect", (client) => client.on("error", lost));
  // The pool re-emits an idle client's error here, already logged by the listener above.
  pool.on("error", () => {});
  const db = drizzlePg(pool, { casing: "snake_case" }) as unknown as Db;
  // drizzle's pool transaction checks a client out, then sends `begin` outside its
  // try/finally: when `begin` fails (the connection died or timed out) the client is never
  // released, and after `max` such faults every later checkout times out for good. Here
  // the checkout and the release are ours, around drizzle's transaction on that one client;
  // a client that failed for any reason but a server error (a SQLSTATE, after which the
  // connection is sound) is destroyed, not reused: a timed-out query may still be running.
  db.transaction = (async (fn: Parameters<Db["transaction"]>[0], config?: unknown) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const onClient = drizzlePg(client, { casing: "snake_case" }) as unknown as Db;
      return await onClient.transaction(fn, config as Parameters<Db["transaction"]>[1]);
    } catch (error) {
      if (!isServerError(error)) broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.release(broken);
    }
  }) as Db["transaction"];
  const sessions = new Set<DbSession>();

  async function session(timeouts: Timeouts = options): Promise<DbSession> {
    const client = new pg.Client(settings(timeouts));
    let alive = true;
    client.on("error", (err) => {
      alive = false;
      lost(err);
    });
    client.on("end", () => {
      alive = false;
    });
    await client.connect();
    const s: DbSession = {
      db: drizzlePg(client, { casing: "snake_case" }) as unknown as Db,
      get alive() {
        return alive;
      },
      async close() {
        sessions.delete(s);
        alive = false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          client.end().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              // No goodbye from a hung server: drop the socket instead of waiting for one.
              (
                client as unknown as { connection?: { stream?: { destroy(): void } } }
              ).connection?.stream?.destroy();
              resolve();
            }, SESSION_CLOSE_MS);
          }),
        ]);
        clearTimeout(timer);
      },
    };
    sessions.add(s);
    return s;
  }

  return {
    db,
    driver: "pg",
    session,
    async close() {
      await Promise.all([...sessions].map((s) => s.close()));
      await pool.end();
    },
  };
}

/** An error PostgreSQL answered with (a SQLSTATE), directly or as drizzle's cause. */
function isServerError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Raw SQL returning rows, the same on both drivers (both results carry `rows`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
