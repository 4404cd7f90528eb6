// The private server really stops and starts: a query fails while it is down and works
// again once it is back, on the same URL.
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { privatePostgres } from "./private-postgres.ts";
import { requireServices } from "./services.ts";

const server = await privatePostgres();
if (!server && requireServices())
  throw new Error("REQUIRE_SERVICES=1 but no PostgreSQL server binaries (scripts/services.sh up)");

describe.runIf(server)("private PostgreSQL", () => {
  afterAll(() => server?.destroy());
  const query = async () => {
    const client = new pg.Client({ connectionString: server!.url, connectionTimeoutMillis: 2_000 });
    await client.connect();
    try {
      return (await client.query("select 1 as one")).rows[0].one;
    } finally {
      await client.end();
    }
  };

  it("serves, stops, and serves again after a restart", async () => {
    await server!.start();
    expect(await query()).toBe(1);
    await server!.stop();
    await expect(query()).rejects.toThrow();
    await server!.start();
    expect(await query()).toBe(1);
    await server!.kill();
    await expect(query()).rejects.toThrow();
  });
});
