// Wiring point of apps/ingest: config → db + bus → services → app → listen.

import { createLogger } from "@pw/logger";
import { loadIngestConfig } from "./config.ts";
import { createLightfieldClient } from "./poller/lightfield-client.ts";
import { createPoller } from "./poller/poller.ts";
import { wireIngest } from "./wiring.ts";

const config = loadIngestConfig();
const logger = createLogger({ service: config.serviceName ?? "ingest", level: config.logLevel });
const { app, bus, handle } = await wireIngest(config, logger);

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
