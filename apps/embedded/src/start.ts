/**
 * The embedded mode: every service in one process, sharing one in-process bus and one
 * PGlite database, each started through the same `startX(config, deps)` function its own
 * `main.ts` uses — so the demo runs exactly the services that are deployed. Dispatch runs
 * the outreach agent's code in-process (no TRUEFOUNDRY_AGENT_URL), on the same PGlite,
 * into the simulated inbox unless SMTP or webhooks are configured. The gateway (the
 * operators' API) runs beside them, signing operator commands with a key pair the others
 * are given the public half of.
 */
import { randomBytes } from "node:crypto";
import { createMemoryBus } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import { dispatchConfig, startDispatch } from "@pw/dispatch";
import { ALL_TOPICS, commandKeyPair } from "@pw/events";
import { experimentsConfig, startExperiments } from "@pw/experiments";
import { gatewayConfig, startGateway } from "@pw/gateway";
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
  /** A port per service (the demo: gateway 4000, ingest 4100); the rest use `env.PORT`. */
  ports?: Partial<Record<"ingest" | "scoring" | "experiments" | "dispatch" | "gateway", number>>;
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
    ...commandSigning(given),
  };
  const envOf = (service: keyof NonNullable<EmbeddedOptions["ports"]>) => {
    const port = options.ports?.[service];
    return port === undefined ? env : { ...env, PORT: String(port) };
  };
  // Parse every config first: a bad variable stops everything before anything starts.
  const configs = {
    ingest: ingestConfig(envOf("ingest")),
    scoring: scoringConfig(envOf("scoring")),
    experiments: experimentsConfig(envOf("experiments")),
    dispatch: dispatchConfig(envOf("dispatch")),
    gateway: gatewayConfig(envOf("gateway")),
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
        ? dispatchConfig({ ...envOf("dispatch"), UNSUBSCRIBE_BASE_URL: ingest.url })
        : configs.dispatch,
      deps,
    );
    started.push(dispatch);
    // The operators' API: every topic into its read model, commands out.
    const gateway = await startGateway(configs.gateway, deps);
    started.push(gateway);
    return { bus, db, ingest, scoring, experiments, dispatch, gateway, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
export type Embedded = Awaited<ReturnType<typeof startEmbedded>>;

/**
 * Operator commands are signed by the gateway and verified by experiments and dispatch
 * (ADR 0009). Without OPERATOR_COMMAND_PRIVATE_KEY, a key pair made up for this run: its
 * private half and key id to the gateway, its public half added to
 * OPERATOR_COMMAND_PUBLIC_KEYS for the others (commands signed in an earlier run are then
 * refused, as they should be). With it, the caller's keys are used as given.
 */
export function commandSigning(given: Record<string, string | undefined>): Record<string, string> {
  if (given.OPERATOR_COMMAND_PRIVATE_KEY) return {};
  const keys = commandKeyPair(`embedded-${randomBytes(4).toString("hex")}`);
  return {
    OPERATOR_COMMAND_PRIVATE_KEY: keys.privateKey
      .export({ format: "pem", type: "pkcs8" })
      .toString(),
    OPERATOR_COMMAND_KEY_ID: keys.keyId,
    // Keys the caller trusts besides (a real gateway elsewhere) stay trusted.
    OPERATOR_COMMAND_PUBLIC_KEYS: withKey(given.OPERATOR_COMMAND_PUBLIC_KEYS, keys),
  };
}

/** OPERATOR_COMMAND_PUBLIC_KEYS with one more key, in the form it was given (list or JSON). */
function withKey(given: string | undefined, key: { keyId: string; publicKeyText: string }): string {
  const text = given?.trim();
  if (!text) return `${key.keyId}:${key.publicKeyText}`;
  if (text.startsWith("{")) {
    // Not JSON: left as it was, so that the services' own parsing names the problem.
    try {
      return JSON.stringify({ ...JSON.parse(text), [key.keyId]: key.publicKeyText });
    } catch {
      return text;
    }
  }
  return `${text},${key.keyId}:${key.publicKeyText}`;
}
