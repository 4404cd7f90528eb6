import { createDb, migrate } from "@pw/db";
import { postgresFixture } from "@pw/testkit";
import { describe } from "vitest";
import { relaySuite } from "./relay-suite.ts";

const pg = await postgresFixture();

describe.runIf(pg)("on PostgreSQL", () => {
  relaySuite("PostgreSQL", async () => {
    const database = await pg!.createDatabase("pw_relay");
    const handle = await createDb({ driver: "pg", url: database.url });
    await migrate(handle);
    return {
      handle,
      close: async () => {
        await handle.close();
        await database.drop();
      },
    };
  });
});
