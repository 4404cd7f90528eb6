// Wiring point of apps/ingest: config → db + bus → services → app → listen.

import { createBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import { sql } from "drizzle-orm";
import { buildApp } from "./app.ts";
import { loadIngestConfig } from "./config.ts";
import { createMetrics } from "./metrics.ts";
import { createLightfieldClient } from "./poller/lightfield-client.ts";
import { createPoller } from "./poller/poller.ts";
import { createReceipts } from "./receipts.ts";
import { createVerifier } from "./verify.ts";

const config = loadIngestConfig();
const logger = createLogger({ service: config.serviceName ?? "ingest", level: config.logLevel });
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
  options: { rateLimitPerSecond: config.rateLimitPerSecond, bodyLimit: config.bodyLimit },
});

const poller = config.lightfield.pollerEnabled
  ? createPoller({
      client: createLightfieldClient({
        baseUrl: config.lightfield.baseUrl,
        apiKey: config.lightfield.apiKey!,
      }),
      db: handle.db,
      bus,
      logger: logger.child({ component: "lightfield-poller" }),
      intervalMs: config.lightfield.pollIntervalMs,
    })
  : undefined;

await app.listen({ port: config.port, host: config.host });
poller?.start();
logger.info({ port: config.port, poller: Boolean(poller) }, "ingest listening");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await app.close(); // stops accepting, finishes in-flight requests
  await poller?.stop();
  await bus.close();
  await handle.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
