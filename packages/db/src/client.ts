/**
 * One database API over two drivers: node-postgres against a real PostgreSQL
 * (distributed mode) and PGlite, embedded Postgres compiled to WASM, persisted
 * to a directory (the embedded default). Repository code takes a `Db` and
 * never knows which one it got.
 */
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
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

export type DbHandle = { db: Db; driver: "pg" | "pglite"; close(): Promise<void> };

export type DbOptions =
  | { driver: "pg"; url: string; maxConnections?: number }
  /** `dir` undefined: in memory (tests). */
  | { driver: "pglite"; dir?: string };

export async function createDb(options: DbOptions): Promise<DbHandle> {
  if (options.driver === "pg") {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 5_000,
    });
    // A pool error on an idle client must not crash the process; the next query reports it.
    pool.on("error", () => {});
    const db = drizzlePg(pool, { casing: "snake_case" }) as unknown as Db;
    return { db, driver: "pg", close: () => pool.end() };
  }
  if (options.dir) await mkdir(options.dir, { recursive: true });
  const client = options.dir ? new PGlite(options.dir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(client, { casing: "snake_case" }) as unknown as Db;
  return { db, driver: "pglite", close: () => client.close() };
}

/** Raw SQL returning rows, the same on both drivers (both results carry `rows`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
