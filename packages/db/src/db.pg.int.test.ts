// The same repository suite on a real PostgreSQL (a fresh database per run).
import { postgresFixture, type TestDatabase } from "@pw/testkit";
import { describe } from "vitest";
import { createDb } from "./client.ts";
import { dbSuite } from "./db-suite.ts";

const pg = await postgresFixture();

describe.runIf(pg)("PostgreSQL", () => {
  let database: TestDatabase;
  dbSuite(`PostgreSQL (${pg?.source})`, () => ({
    async open() {
      database = await pg!.createDatabase("pw_db");
      return createDb({ driver: "pg", url: database.url });
    },
    cleanup: () => database.drop(),
  }));
});
