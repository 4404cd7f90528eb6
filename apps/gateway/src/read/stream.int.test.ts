// The live stream on a real PostgreSQL (each test its own database), with a real
// listening server and SSE client: the same suite as on PGlite.
import { createDb, migrate } from "@pw/db";
import { postgresFixture } from "@pw/testkit";
import { afterAll, describe } from "vitest";
import { streamSuite } from "../../test/read-stream-suite.ts";

const pg = await postgresFixture();

describe.skipIf(!pg)("gateway read side on PostgreSQL", () => {
  afterAll(() => pg?.stop());
  streamSuite("PostgreSQL", async () => {
    const database = await pg!.createDatabase("pw_gateway_read");
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
