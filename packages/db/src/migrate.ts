/**
 * Applies the committed drizzle-kit migrations (packages/db/drizzle) on either
 * driver. Idempotent. On PostgreSQL an advisory lock serialises concurrent
 * migrators (several replicas starting at once).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { type DbHandle, queryRows } from "./client.ts";

export const MIGRATIONS_FOLDER = join(import.meta.dirname, "../drizzle");
const LOCK_ID = 727_274_001;

export async function migrate(handle: DbHandle): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER, migrationsSchema: "drizzle" };
  if (handle.driver === "pglite") {
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
    await migratePglite(handle.db as any, config);
    return;
  }
  // A connection of its own without the pool's timeouts: a migration may build an index on
  // a large table for longer than any query of a service should take.
  const session = await handle.session?.({ statementTimeoutMs: 0, queryTimeoutMs: 0 });
  try {
    // Advisory locks are per session: hold one connection for lock + migrate + unlock.
    await (session?.db ?? handle.db).transaction(async (tx) => {
      await tx.execute(sql`set local statement_timeout = 0`);
      await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_ID})`);
      // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
      await migratePg(tx as any, config);
    });
  } finally {
    await session?.close();
  }
}

type JournalEntry = { idx: number; when: number; tag: string };

/** The committed migrations, in order (drizzle-kit's journal). */
export function committedMigrations(): JournalEntry[] {
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8"),
  ) as { entries: JournalEntry[] };
  return journal.entries;
}

/**
 * Migrations committed but not yet applied to this database, by tag. drizzle's
 * migrator records each applied migration's journal timestamp in
 * `drizzle.__drizzle_migrations.created_at` and applies those newer than the last one,
 * so the same rule tells what is pending.
 */
export async function pendingMigrations(handle: DbHandle): Promise<string[]> {
  const exists = await queryRows<{ present: boolean }>(
    handle.db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`,
  );
  const all = committedMigrations();
  if (!exists[0]?.present) return all.map((m) => m.tag);
  const [last] = await queryRows<{ at: string | number | null }>(
    handle.db,
    sql`select max(created_at) as at from drizzle.__drizzle_migrations`,
  );
  const lastApplied = last?.at == null ? -1 : Number(last.at);
  return all.filter((m) => m.when > lastApplied).map((m) => m.tag);
}

export class SchemaNotCurrentError extends Error {
  readonly pending: string[];
  constructor(pending: string[]) {
    super(
      `the database schema is not current: ${pending.length} migration(s) pending (${pending.join(", ")}). Run \`pnpm db:migrate\` against this DATABASE_URL first.`,
    );
    this.name = "SchemaNotCurrentError";
    this.pending = pending;
  }
}

/** Distributed mode: services do not migrate; they refuse to start on an old schema. */
export async function assertSchemaCurrent(handle: DbHandle): Promise<void> {
  const pending = await pendingMigrations(handle);
  if (pending.length > 0) throw new SchemaNotCurrentError(pending);
}
