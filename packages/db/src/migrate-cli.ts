// `pnpm db:migrate` — one-shot: applies migrations to DATABASE_URL (PostgreSQL)
// or, when unset, to the embedded PGlite database in PGLITE_DIR.
import { DatabaseConfig, loadConfig } from "@pw/config";
import { createDb } from "./client.ts";
import { migrate } from "./migrate.ts";

const { database } = loadConfig(DatabaseConfig);
const target =
  database.driver === "pg"
    ? new URL(database.url).host + new URL(database.url).pathname
    : database.dir;
const handle = await createDb(
  database.driver === "pg"
    ? { driver: "pg", url: database.url }
    : { driver: "pglite", dir: database.dir },
);
try {
  const started = Date.now();
  await migrate(handle);
  console.log(`migrations applied to ${database.driver} ${target} in ${Date.now() - started} ms`);
} catch (error) {
  console.error(`migration failed on ${database.driver} ${target}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
