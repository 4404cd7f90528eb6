// PostgreSQL fixture: each suite gets a throwaway database on a real server.
import pg from "pg";
import { dockerAvailable, unavailable, uniqueName } from "./services.ts";
import { waitFor } from "./wait-for.ts";

export type TestDatabase = { url: string; name: string; drop(): Promise<void> };

export type PostgresFixture = {
  adminUrl: string;
  source: "env" | "testcontainers";
  /** Creates an empty database on the server; `drop()` removes it. */
  createDatabase(prefix?: string): Promise<TestDatabase>;
  stop(): Promise<void>;
};

export async function postgresFixture(
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostgresFixture | null> {
  if (env.DATABASE_URL) {
    return fromUrl(env.DATABASE_URL, "env", async () => {});
  }
  if (dockerAvailable(env)) {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const container = await new PostgreSqlContainer("postgres:17-alpine").start();
    return fromUrl(container.getConnectionUri(), "testcontainers", async () => {
      await container.stop();
    });
  }
  return unavailable(
    "PostgreSQL",
    'DATABASE_URL is not set and no Docker engine answers (run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`)',
  );
}

async function fromUrl(
  adminUrl: string,
  source: PostgresFixture["source"],
  stop: () => Promise<void>,
): Promise<PostgresFixture> {
  await withClient(adminUrl, (c) => c.query("select 1"));
  return {
    adminUrl,
    source,
    stop,
    async createDatabase(prefix = "pw_test") {
      const name = uniqueName(prefix).toLowerCase();
      await withClient(adminUrl, (c) => c.query(`create database "${name}"`));
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        name,
        url: url.toString(),
        drop: () => dropDatabase(adminUrl, name),
      };
    },
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops a test database. `with (force)` needs the right to signal every backend
 * on it, which a least-privilege role lacks when e.g. an autovacuum worker is
 * connected; then wait for the stragglers and retry plainly.
 */
async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  try {
    await withClient(adminUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
    return;
  } catch {
    // fall through to plain retries
  }
  await waitFor(
    async () => {
      await withClient(adminUrl, (c) => c.query(`drop database if exists "${name}"`));
      return true;
    },
    { timeoutMs: 5_000, intervalMs: 250, message: `database ${name} to drop` },
  );
}
