// Wiring point of apps/experiments: config → db + bus → engine → consumers → health server.
import { withPooledPriors } from "@pw/bandit";
import { createBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import { createStackAiClient } from "@pw/stackai";
import { sql } from "drizzle-orm";
import { loadExperimentsConfig } from "./config.ts";
import { startExperiments } from "./consumers.ts";
import { createCopywriter } from "./copywriter.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
import { buildHttp, createExperimentMetrics } from "./http.ts";
import { createIntentClassifier } from "./intent.ts";
import { operatorBuilder } from "./operator.ts";

const config = loadExperimentsConfig();
const logger = createLogger({
  service: config.serviceName ?? "experiments",
  level: config.logLevel,
});
const handle = await createDb(
  config.database.driver === "pg"
    ? { driver: "pg", url: config.database.url }
    : { driver: "pglite", dir: config.database.dir },
);
await migrate(handle);
await seedPlaybook(handle.db);
const bus = createBus(config.bus, logger.child({ component: "bus" }));
await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
const rewriteClient = config.stackai.rewrite && createStackAiClient(config.stackai.rewrite);
const intentClient = config.stackai.intent && createStackAiClient(config.stackai.intent);
const engine = engineBuilder({
  db: handle.db,
  reward: config.reward,
  attributionDays: config.attributionDays,
  capacity: config.capacity,
  guardrails: config.guardrails,
  ...(config.evidenceHalfLifeDays
    ? { evidenceHalfLifeDays: config.evidenceHalfLifeDays, suppression: false as const }
    : {}),
  priors:
    config.pooledPriorStrength > 0
      ? (bySegment) =>
          withPooledPriors(bySegment, { strength: config.pooledPriorStrength, pool: "variant" })
      : undefined,
  copywriter: createCopywriter({
    stackai: rewriteClient || undefined,
    logger: logger.child({ component: "copywriter" }),
  }),
  intent: createIntentClassifier({
    stackai: intentClient || undefined,
    logger: logger.child({ component: "intent" }),
  }),
});
const metrics = createExperimentMetrics();
const running = await startExperiments({
  metrics,
  bus,
  db: handle.db,
  engine,
  operator: operatorBuilder({ db: handle.db, capacityPerDay: config.capacity.perDay }),
  logger,
  reviewEveryMs: config.reviewEveryMs,
});

const app = buildHttp({
  db: handle.db,
  metrics,
  capacityPerDay: config.capacity.perDay,
  ready: async () => {
    const [broker, database] = await Promise.all([
      bus.healthy(),
      handle.db.execute(sql`select 1`).then(
        () => true,
        () => false,
      ),
    ]);
    return {
      broker,
      database,
      stackai: {
        rewrite: rewriteClient ? rewriteClient.breakerState() : "not_configured",
        intent: intentClient ? intentClient.breakerState() : "not_configured",
      },
    };
  },
});
await app.listen({ port: config.port, host: config.host });
logger.info(
  { port: config.port, reward: config.reward, capacity: config.capacity.perDay },
  "experiments running",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await app.close();
  await running.stop();
  await bus.close();
  await rewriteClient?.close();
  await intentClient?.close();
  await handle.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
