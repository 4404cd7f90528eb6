/**
 * The embedded mode: every service in one process, sharing one in-process bus and one
 * PGlite database, each started through the same `startX(config, deps)` function its own
 * `main.ts` uses — so the demo runs exactly the services that are deployed.
 */
import { createMemoryBus } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { experimentsConfig, startExperiments } from "@pw/experiments";
import { ingestConfig, startIngest } from "@pw/ingest";
import { createLogger, type Logger } from "@pw/logger";
import { scoringConfig, startScoring } from "@pw/scoring";
import { openDatabase } from "@pw/service";

export type EmbeddedOptions = {
  /** Each service parses its own variables from here, exactly as in its own process. */
  env?: Record<string, string | undefined>;
  /** Where PGlite keeps its data; undefined keeps it in memory. */
  dataDir?: string;
  /** false: no sockets (tests use `app.inject`). */
  listen?: boolean;
  logger?: Logger;
};

export async function startEmbedded(options: EmbeddedOptions = {}) {
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger({ service: "embedded", level: "info" });
  // Parse every config first: a bad variable stops everything before anything starts.
  const configs = {
    ingest: ingestConfig(env),
    scoring: scoringConfig(env),
    experiments: experimentsConfig(env),
  };
  const bus = createMemoryBus({ logger: logger.child({ component: "bus" }) });
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  const db: DbHandle = await openDatabase({ driver: "pglite", dir: options.dataDir }, logger);
  const deps = { bus, db, logger, listen: options.listen ?? true };
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop();
    started.length = 0;
    await bus.close();
    await db.close();
  };
  try {
    // Downstream first, so nothing an upstream service emits waits for a consumer.
    const experiments = await startExperiments(configs.experiments, deps);
    started.push(experiments);
    const scoring = await startScoring(configs.scoring, deps);
    started.push(scoring);
    const ingest = await startIngest(configs.ingest, deps);
    started.push(ingest);
    return { bus, db, ingest, scoring, experiments, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
export type Embedded = Awaited<ReturnType<typeof startEmbedded>>;
