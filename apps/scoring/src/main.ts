// Wiring point of apps/scoring: config → db + bus → service → consumers → health server.
import { createBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import { createStackAiClient } from "@pw/stackai";
import { sql } from "drizzle-orm";
import { loadScoringConfig } from "./config.ts";
import { startScoring } from "./consumers.ts";
import { buildHttp, createScoringMetrics } from "./http.ts";
import { ensureInitialModel } from "./model-store.ts";
import { scoringServiceBuilder } from "./service.ts";
import { createStackAiScorer } from "./stackai-scorer.ts";

const config = loadScoringConfig();
const logger = createLogger({ service: config.serviceName ?? "scoring", level: config.logLevel });
const handle = await createDb(
  config.database.driver === "pg"
    ? { driver: "pg", url: config.database.url, maxConnections: 20 }
    : { driver: "pglite", dir: config.database.dir },
);
await migrate(handle);
await ensureInitialModel(handle.db);
const bus = createBus(config.bus, logger.child({ component: "bus" }));
await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
const stackai = config.stackai ? createStackAiClient(config.stackai) : undefined;
const metrics = createScoringMetrics();
const service = scoringServiceBuilder({
  db: handle.db,
  stackai: stackai ? createStackAiScorer(stackai) : undefined,
  logger,
  onScore: (scorer, fallback) => metrics.scorer.inc({ scorer, fallback: String(fallback) }),
});
const running = await startScoring({ bus, db: handle.db, service, logger, metrics });

const app = buildHttp({
  metrics,
  ready: async () => ({
    broker: await bus.healthy(),
    database: await handle.db.execute(sql`select 1`).then(
      () => true,
      () => false,
    ),
    stackai: stackai?.breakerState() ?? "not configured",
  }),
});
await app.listen({ port: config.port, host: config.host });
logger.info({ port: config.port, scorer: stackai ? "stackai" : "builtin" }, "scoring running");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await app.close();
  await running.stop();
  await bus.close();
  await stackai?.close();
  await handle.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
