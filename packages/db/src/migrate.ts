/**
 * Applies the committed drizzle-kit migrations (packages/db/drizzle) on either
 * driver. Idempotent. On PostgreSQL an advisory lock serialises concurrent
 * migrators (several replicas starting at once).
 */
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { DbHandle } from "./client.ts";

export const MIGRATIONS_FOLDER = join(import.meta.dirname, "../drizzle");
const LOCK_ID = 727_274_001;

export async function migrate(handle: DbHandle): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER, migrationsSchema: "drizzle" };
  if (handle.driver === "pglite") {
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
    await migratePglite(handle.db as any, config);
    return;
  }
  // Advisory locks are per session: hold one connection for lock + migrate + unlock.
  await handle.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_ID})`);
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
    await migratePg(tx as any, config);
  });
}
