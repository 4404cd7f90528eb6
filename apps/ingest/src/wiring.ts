// Builds ingest's dependencies and app from parsed config; shared by main.ts and
// the replay command so both take exactly the same path.
import { createBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import type { Logger } from "@pw/logger";
import { sql } from "drizzle-orm";
import { buildApp, type IngestOptions } from "./app.ts";
import type { IngestConfig } from "./config.ts";
import { createMetrics } from "./metrics.ts";
import { createReceipts } from "./receipts.ts";
import { createVerifier } from "./verify.ts";

export async function wireIngest(
  config: IngestConfig,
  logger: Logger,
  overrides: Partial<IngestOptions> = {},
) {
  const handle = await createDb(
    config.database.driver === "pg"
      ? { driver: "pg", url: config.database.url, maxConnections: 20 }
      : { driver: "pglite", dir: config.database.dir },
  );
  await migrate(handle);
  const bus = createBus(config.bus, logger.child({ component: "bus" }));
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  const app = buildApp({
    bus,
    receipts: createReceipts(handle.db),
    verify: createVerifier(config.webhookSecrets),
    metrics: createMetrics(),
    logger,
    dbHealthy: async () => {
      await handle.db.execute(sql`select 1`);
      return true;
    },
    options: {
      rateLimitPerSecond: config.rateLimitPerSecond,
      bodyLimit: config.bodyLimit,
      ...overrides,
    },
  });
  return { app, bus, handle };
}
