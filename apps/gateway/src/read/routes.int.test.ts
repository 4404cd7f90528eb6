// The read routes on a real PostgreSQL (its own database): the same suite as on PGlite,
// so that driver differences (bigint and timestamp decoding, raw SQL) cannot hide.
import { createDb, migrate } from "@pw/db";
import { postgresFixture } from "@pw/testkit";
import { afterAll, describe } from "vitest";
import { routesSuite } from "../../test/read-routes-suite.ts";

const pg = await postgresFixture();

describe.skipIf(!pg)("gateway read routes on PostgreSQL", () => {
  afterAll(() => pg?.stop());
  routesSuite("PostgreSQL", async () => {
    const database = await pg!.createDatabase("pw_gateway_routes");
    const handle = await createDb({ driver: "pg", url: database.url });
    await migrate(handle);
    return {
      db: handle.db,
      close: async () => {
        await handle.close();
        await database.drop();
      },
    };
  });
});
