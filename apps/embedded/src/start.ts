/**
 * The embedded mode: every service in one process, sharing one in-process bus and one
 * PGlite database, each started through the same `startX(config, deps)` function its own
 * `main.ts` uses — so the demo runs exactly the services that are deployed. Dispatch runs
 * the outreach agent's code in-process (no TRUEFOUNDRY_AGENT_URL), on the same PGlite,
 * into the simulated inbox unless SMTP or webhooks are configured.
 */
import { randomBytes } from "node:crypto";
import { createMemoryBus } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import { dispatchConfig, startDispatch } from "@pw/dispatch";
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
  const logger = options.logger ?? createLogger({ service: "embedded", level: "info" });
  const given = options.env ?? process.env;
  // Dispatch signs one-click unsubscribe links and ingest verifies them: one secret for
  // both, made up for this run when none is given (links from an earlier run then fail).
  const env: Record<string, string | undefined> = {
    ...given,
    UNSUBSCRIBE_SECRET: given.UNSUBSCRIBE_SECRET ?? randomBytes(32).toString("base64url"),
  };
  // Parse every config first: a bad variable stops everything before anything starts.
  const configs = {
    ingest: ingestConfig(env),
    scoring: scoringConfig(env),
    experiments: experimentsConfig(env),
    dispatch: dispatchConfig(env),
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
    // Dispatch last, though it is the furthest downstream: its unsubscribe links point at
    // ingest, whose address (PORT=0) is known only once it listens. Nothing is lost in the
    // meantime: the in-process bus hands a new consumer group everything from the start.
    const dispatch = await startDispatch(
      env.UNSUBSCRIBE_BASE_URL === undefined && ingest.url
        ? dispatchConfig({ ...env, UNSUBSCRIBE_BASE_URL: ingest.url })
        : configs.dispatch,
      deps,
    );
    started.push(dispatch);
    return { bus, db, ingest, scoring, experiments, dispatch, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
export type Embedded = Awaited<ReturnType<typeof startEmbedded>>;
