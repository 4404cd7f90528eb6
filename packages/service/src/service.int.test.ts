// The kit against a real PostgreSQL and Kafka broker, opening both itself as `main` does:
// a database that `pnpm db:migrate` has not brought up to date is refused with a message
// that says what to run; once migrated, the service starts, is ready, and stops cleanly.
import { parseConfig, ServiceBaseConfig } from "@pw/config";
import { createDb, migrate, SchemaNotCurrentError } from "@pw/db";
import { createLogger } from "@pw/logger";
import { kafkaFixture, postgresFixture, type TestDatabase } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runService } from "./index.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const KitConfig = ServiceBaseConfig(0);

describe.runIf(kafka && pg)("service kit on real services", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await pg!.createDatabase("pw_kit");
  });
  afterAll(async () => {
    await database?.drop();
  });

  it("refuses to start on a schema that is not current, and starts once it is migrated", async () => {
    const config = parseConfig(KitConfig, {
      PORT: "0",
      DATABASE_URL: database.url,
      BUS_DRIVER: "kafka",
      KAFKA_BROKERS: kafka!.brokers.join(","),
      KAFKA_TOPIC_PREFIX: `${kafka!.uniqueName("kit")}.`,
    });
    const logger = createLogger({ service: "kit-test", level: "silent" });
    const start = () => runService({ name: "kit", config, deps: { logger }, build: () => ({}) });

    const refused = await start().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SchemaNotCurrentError);
    expect((refused as Error).message).toMatch(/migration\(s\) pending \(0000_init, .*\)/);
    expect((refused as Error).message).toContain("pnpm db:migrate");

    const handle = await createDb({ driver: "pg", url: database.url });
    await migrate(handle); // what `pnpm db:migrate` runs
    await handle.close();

    const service = await start();
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      checks: { database: { status: "ok" }, broker: { status: "ok" } },
    });
    await service.stop();
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
  });
});
