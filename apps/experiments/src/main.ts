// Wiring point of apps/experiments: config → db + bus → engine → consumers → health server.
import { createBus } from "@pw/bus";
import { BusConfig, DatabaseConfig, HttpConfig, loadConfig, ServiceConfig } from "@pw/config";
import { createDb, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import { sql } from "drizzle-orm";
import Fastify from "fastify";
import { z } from "zod";
import { startExperiments } from "./consumers.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

const config = loadConfig(
  ServiceConfig.and(HttpConfig(4300))
    .and(BusConfig)
    .and(DatabaseConfig)
    .and(
      z.object({
        /** The outcome that counts as a conversion for the bandit. */
        EXPERIMENT_REWARD: z
          .enum(["replied", "meeting_booked", "converted"])
          .default("meeting_booked"),
        EXPERIMENT_ATTRIBUTION_DAYS: z.coerce.number().min(1).max(90).default(14),
      }),
    ),
);
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
const engine = engineBuilder({
  db: handle.db,
  reward: config.EXPERIMENT_REWARD,
  attributionDays: config.EXPERIMENT_ATTRIBUTION_DAYS,
});
const running = await startExperiments({
  bus,
  db: handle.db,
  engine,
  operator: operatorBuilder({ db: handle.db }),
  logger,
});

const app = Fastify();
app.get("/healthz", async () => ({ status: "ok" }));
app.get("/readyz", async (_req, reply) => {
  const [broker, database] = await Promise.all([
    bus.healthy(),
    handle.db.execute(sql`select 1`).then(
      () => true,
      () => false,
    ),
  ]);
  return reply.code(broker && database ? 200 : 503).send({ broker, database });
});
await app.listen({ port: config.port, host: config.host });
logger.info({ port: config.port, reward: config.EXPERIMENT_REWARD }, "experiments running");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  await app.close();
  await running.stop();
  await bus.close();
  await handle.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
