// The pg client under faults, on a PostgreSQL of the test's own: a connection that dies
// while a client is checked out fails that work and not the process, and the pool carries
// on; statement_timeout and query_timeout come from the options.
import { privatePostgres, requireServices } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle, queryRows } from "./client.ts";

const server = await privatePostgres();
if (!server && requireServices())
  throw new Error("REQUIRE_SERVICES=1 but no PostgreSQL server binaries (scripts/services.sh up)");

const pidOf = async (db: DbHandle["db"]) =>
  (await queryRows<{ pid: number }>(db, sql`select pg_backend_pid() as pid`))[0]!.pid;

describe.runIf(server)("pg client under faults", () => {
  let admin: DbHandle;
  beforeAll(async () => {
    await server!.start();
    admin = await createDb({ driver: "pg", url: server!.url, maxConnections: 1 });
  });
  afterAll(async () => {
    await admin?.close();
    await server?.destroy();
  });

  it("a connection terminated while its client is checked out fails that transaction, not the process", async () => {
    const handle = await createDb({ driver: "pg", url: server!.url, maxConnections: 2 });
    try {
      const outcome = await handle.db
        .transaction(async (tx) => {
          const pid = await pidOf(tx);
          await admin.db.execute(sql`select pg_terminate_backend(${pid})`);
          // Between two statements: no query is active when the connection drops.
          await new Promise((r) => setTimeout(r, 300));
          await tx.execute(sql`select 1`);
        })
        .then(
          () => "committed",
          (e: Error) => `failed: ${e.message}`,
        );
      expect(outcome).toMatch(/^failed:/);
      // The dead client left the pool; the next query gets a fresh one.
      expect(await queryRows(handle.db, sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await handle.close();
    }
  });

  it("a transaction whose begin fails gives its connection back: the pool is not used up by faults", async () => {
    // One connection: a client kept after a failed `begin` would leave nothing to check out.
    const handle = await createDb({
      driver: "pg",
      url: server!.url,
      maxConnections: 1,
      queryTimeoutMs: 500,
    });
    try {
      for (let fault = 0; fault < 3; fault++) {
        const pid = await pidOf(handle.db);
        process.kill(pid, "SIGSTOP");
        const outcome = await handle.db
          .transaction(async (tx) => {
            await tx.execute(sql`select 1`);
          })
          .then(
            () => "committed",
            (e: Error) => `failed: ${e.message}`,
          );
        process.kill(pid, "SIGCONT");
        expect(outcome).toMatch(/^failed:/);
      }
      // A unique violation (a server error) keeps the connection; the next work still runs.
      const dup = await handle.db
        .transaction(async (tx) => {
          await tx.execute(sql`create temp table t (id int primary key)`);
          await tx.execute(sql`insert into t values (1), (1)`);
        })
        .catch((e: { cause?: { code?: string } }) => e.cause?.code);
      expect(dup).toBe("23505");
      const one = await handle.db.transaction((tx) =>
        queryRows<{ one: number }>(tx, sql`select 1 as one`),
      );
      expect(one).toEqual([{ one: 1 }]);
    } finally {
      await handle.close();
    }
  });

  it("cancels a statement that runs longer than statement_timeout", async () => {
    const handle = await createDb({ driver: "pg", url: server!.url, statementTimeoutMs: 300 });
    try {
      const started = Date.now();
      const error = await handle.db.execute(sql`select pg_sleep(3)`).catch((e: unknown) => e);
      expect((error as { cause?: { code?: string } }).cause?.code).toBe("57014");
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await handle.close();
    }
  });

  it("gives up on a server that does not answer after query_timeout", async () => {
    const handle = await createDb({
      driver: "pg",
      url: server!.url,
      maxConnections: 1,
      queryTimeoutMs: 500,
    });
    const pid = await pidOf(handle.db);
    process.kill(pid, "SIGSTOP");
    try {
      const started = Date.now();
      const outcome = await Promise.race([
        handle.db.execute(sql`select 1`).then(
          () => "answered",
          () => "failed",
        ),
        new Promise((resolve) => setTimeout(() => resolve("still waiting after 5 s"), 5_000)),
      ]);
      expect(outcome).toBe("failed");
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      process.kill(pid, "SIGCONT");
      await handle.close();
    }
  });
});
