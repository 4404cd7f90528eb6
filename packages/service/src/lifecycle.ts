/**
 * `runService`: starts a service from its parsed config and the parts it declares
 * (subscriptions, outbox relays, timers, HTTP routes, readiness checks), and stops them in
 * reverse order within a grace period. It never touches `process`, so the one-process
 * demo and the tests start every app through it exactly as `main` does (`runMain` adds the
 * signal handlers). At start it waits for an unreachable database or broker (startup.ts);
 * readiness includes the outbox's lag and stalled consumers.
 */
import {
  type Bus,
  type BusSettings,
  createBus,
  createDlqTool,
  type DlqTool,
  kafkaClientConfig,
  type Subscription,
} from "@pw/bus";
import {
  assertSchemaCurrent,
  createDb,
  type Db,
  type DbHandle,
  type DbOptions,
  type InboxTable,
  migrate,
  type OutboxTable,
  pruneInbox,
  pruneOutbox,
} from "@pw/db";
import { ALL_TOPICS, OPS_TOPIC_CONFIG, OPS_TOPICS } from "@pw/events";
import { createLogger, type Logger } from "@pw/logger";
import { sql } from "drizzle-orm";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import { createHeartbeat, dlqTally, type Heartbeat } from "./heartbeat.ts";
import { createServiceMetrics, type ServiceMetrics } from "./metrics.ts";
import { type Check, type CheckResult, type Readiness, readiness, registerOps } from "./ops.ts";
import {
  createRelay,
  type OutboxRelay,
  setMessageLimit,
  type TypedOutbox,
  typedOutbox,
} from "./outbox.ts";
import { consumersCheck, outboxLag } from "./readiness-checks.ts";
import { tableName } from "./relay-lock.ts";
import { whenReachable } from "./startup.ts";
import { type SubscriptionSpec, subscriber } from "./subscribe.ts";

/** The part of every app's parsed config that the kit reads (see @pw/config fragments). */
export type KitConfig = {
  serviceName?: string | undefined;
  logLevel: string;
  port: number;
  host: string;
  bus: BusSettings;
  database: DbOptions;
  shutdownGraceMs: number;
  /** How long start retries an unreachable database or broker. */
  startupWaitMs: number;
  housekeeping: { outboxRetentionMs: number; inboxRetentionMs: number; everyMs: number };
  outbox: { maxMessageBytes: number; maxLagMs: number };
  /** The heartbeat on `service.health.v1` (HEALTH_EVERY_MS, 0: off; SERVICE_VERSION). Default: every 5 s. */
  health?: { everyMs: number; version: string };
};

/** What a caller may hand in instead of letting the service open its own (demo, tests). */
export type SharedDeps = {
  logger?: Logger;
  /** A database already open and migrated; the service will not close it. */
  db?: DbHandle;
  /** A bus already open; the service will not close it. */
  bus?: Bus;
  /** false: build the HTTP app without listening (tests use `app.inject`). Default true. */
  listen?: boolean;
};

export type ServiceKit = {
  readonly name: string;
  readonly logger: Logger;
  readonly db: Db;
  readonly handle: DbHandle;
  readonly bus: Bus;
  readonly metrics: ServiceMetrics;
  /** The service's HTTP app, for its own routes (ops routes are already there). */
  readonly app: FastifyInstance;
  readonly config: KitConfig;
  subscribe<T extends import("@pw/events").TopicName>(
    spec: SubscriptionSpec<T>,
  ): Promise<Subscription>;
  /** The service's outbox (typed enqueue) with its relay, and pruning of it and the inbox. */
  messaging(tables: { outbox: OutboxTable; inbox: InboxTable }): {
    outbox: TypedOutbox;
    relay: OutboxRelay;
  };
  /** Runs `fn` every `ms` (never two at once); errors are logged and retried next time. */
  every(name: string, ms: number, fn: () => Promise<unknown>): void;
  check(name: string, run: () => Promise<CheckResult>, options?: { required?: boolean }): void;
  /** Runs every check now: what `/readyz` answers (the gateway shows its own on /api/health). */
  readiness(): Promise<Readiness>;
  /**
   * The DLQ tool (`pnpm dlq`'s) on this service's bus: depth, list, redrive, drop. Undefined
   * when the bus handed in is Kafka but the config names no brokers to read DLQs with.
   */
  dlqTool(): DlqTool | undefined;
  beforeScrape(fn: () => Promise<void>): void;
  /**
   * A vendor client with a local fallback (never required for readiness): reported
   * `not_configured` without a client, `down` while its breaker is open, closed at stop.
   */
  vendor(
    name: string,
    client: { breakerState(): string; close(): Promise<unknown> } | undefined,
    fallback: string,
  ): void;
  /** Stopped after subscriptions and timers, before the bus and database; reverse order. */
  onStop(name: string, fn: () => Promise<unknown> | unknown): void;
};

export type RunningService = {
  readonly name: string;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  readonly handle: DbHandle;
  readonly bus: Bus;
  readonly metrics: ServiceMetrics;
  /** `http://host:port` once listening; undefined with `listen: false`. */
  readonly url: string | undefined;
  /** Its heartbeat on `service.health.v1`; undefined with HEALTH_EVERY_MS=0 or without a bus. */
  readonly heartbeat: Heartbeat | undefined;
  stop(): Promise<void>;
};

type Step = { name: string; run: () => Promise<unknown> | unknown };

export async function runService<T extends object>(spec: {
  name: string;
  config: KitConfig;
  deps?: SharedDeps;
  fastify?: FastifyServerOptions;
  /**
   * false: a service that talks HTTP only (the outreach agent): no bus is opened, no
   * broker check, and `subscribe` / `messaging` throw.
   */
  bus?: false;
  build: (kit: ServiceKit) => Promise<T> | T;
}): Promise<RunningService & T> {
  const { config } = spec;
  const deps = spec.deps ?? {};
  const name = config.serviceName ?? spec.name;
  const logger =
    deps.logger?.child({ service: name }) ??
    createLogger({ service: name, level: config.logLevel as "info" });
  const steps: Step[] = []; // stop steps, run in reverse
  const stop = async () => {
    const deadline = Date.now() + config.shutdownGraceMs;
    for (const step of steps.reverse()) {
      const left = deadline - Date.now();
      const outcome = await withDeadline(Promise.resolve().then(step.run), Math.max(left, 0));
      if (outcome === "timeout")
        logger.error({ step: step.name, graceMs: config.shutdownGraceMs }, "stop step timed out");
      else if (outcome instanceof Error)
        logger.error({ err: outcome, step: step.name }, "stop step failed");
    }
    steps.length = 0;
    logger.info("stopped");
  };

  try {
    const waiting = { waitMs: config.startupWaitMs, logger };
    const handle = deps.db ?? (await openDatabase(config.database, logger, waiting));
    if (!deps.db) steps.push({ name: "database", run: () => handle.close() });
    const usesBus = spec.bus !== false;
    const bus = usesBus
      ? (deps.bus ?? createBus(config.bus, logger.child({ component: "bus" })))
      : noBus(name);
    if (usesBus && !deps.bus) steps.push({ name: "bus", run: () => bus.close() });
    if (usesBus)
      await whenReachable(
        "broker",
        () =>
          bus.ensureTopics(
            ALL_TOPICS.map((topic) =>
              OPS_TOPICS.includes(topic)
                ? { name: topic, config: OPS_TOPIC_CONFIG }
                : { name: topic },
            ),
          ),
        waiting,
      );

    const metrics = createServiceMetrics(name);
    const checks: Check[] = [
      {
        name: "database",
        required: true,
        run: async () => {
          await handle.db.execute(sql`select 1`);
          return { status: "ok" };
        },
      },
    ];
    if (usesBus)
      checks.push({
        name: "broker",
        required: true,
        run: async () =>
          (await bus.healthy())
            ? { status: "ok" }
            : { status: "down", reason: `${bus.driver} bus unreachable` },
      });
    const scrapers: (() => Promise<void>)[] = [];
    const app = Fastify({
      loggerInstance: logger,
      // Per-request info lines cost more than a webhook at 10k/s; ops.ts logs what matters.
      logController: new LogController({ disableRequestLogging: true }),
      ...spec.fastify,
    });
    registerOps(app, {
      service: name,
      metrics,
      checks: () => checks,
      beforeScrape: async () => {
        for (const s of scrapers) await s();
      },
    });

    const relays: OutboxRelay[] = [];
    const subscriptions: { name: string; group: string; sub: Subscription }[] = [];
    const parked = dlqTally();
    const timers: { name: string; timer: NodeJS.Timeout; inFlight: () => Promise<unknown> }[] = [];
    const stopHooks: Step[] = [];
    const outboxes: { name: string; table: OutboxTable }[] = [];

    // Added with the first subscription / the first outbox.
    const watchConsumers = () => {
      if (!checks.some((c) => c.name === "consumers")) checks.push(consumersCheck(subscriptions));
    };
    const lag = outboxLag({
      db: handle.db,
      outboxes,
      metrics,
      maxLagMs: config.outbox.maxLagMs,
    });
    const watchOutbox = (table: OutboxTable) => {
      outboxes.push({ name: tableName(table), table });
      if (outboxes.length > 1) return;
      checks.push({ name: "outbox", required: true, run: lag });
      scrapers.push(async () => void (await lag()));
    };

    // DLQ depth of the topics this service consumes, read at scrape time (the DLQ tool's
    // own view: what `pnpm dlq` would list). Only when the bus is the one the config names.
    const dlqWaiting = metrics.gauge(
      "pw_dlq_waiting",
      "Messages parked in the DLQ of each topic this service consumes (pnpm dlq to handle)",
      ["topic"],
    );
    let dlq: DlqTool | undefined;
    const dlqTool = (): DlqTool | undefined => {
      if (!usesBus || bus.driver !== config.bus.driver) return undefined;
      dlq ??= createDlqTool(
        bus,
        config.bus.driver === "kafka"
          ? {
              kafka: {
                ssl: kafkaClientConfig(config.bus).ssl,
                sasl: kafkaClientConfig(config.bus).sasl,
                brokers: config.bus.brokers,
                clientId: `${config.bus.clientId}-dlq-depth`,
                topicPrefix: config.bus.topicPrefix,
              },
              logger,
            }
          : { logger },
      );
      return dlq;
    };
    scrapers.push(async () => {
      const topics = subscriptions.map((s) => s.name);
      if (topics.length === 0) return;
      try {
        const tool = dlqTool();
        if (!tool) return;
        for (const d of await tool.dlqDepth(topics)) dlqWaiting.set({ topic: d.topic }, d.waiting);
      } catch (error) {
        logger.warn({ err: error }, "DLQ depth unavailable for this scrape");
      }
    });
    stopHooks.push({ name: "dlq-depth", run: () => dlq?.close() });

    const every: ServiceKit["every"] = (timerName, ms, fn) => {
      let running: Promise<unknown> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = fn()
          .catch((error) => logger.error({ err: error, timer: timerName }, "timer failed"))
          .finally(() => {
            running = undefined;
          });
      }, ms);
      timer.unref();
      timers.push({ name: timerName, timer, inFlight: () => running ?? Promise.resolve() });
    };

    const kit: ServiceKit = {
      name,
      logger,
      db: handle.db,
      handle,
      bus,
      metrics,
      app,
      config,
      subscribe: async (s) => {
        const sub = await subscriber({
          bus,
          service: name,
          logger,
          metrics,
          afterHandled: () => {
            for (const r of relays) r.notifyIfEnqueued();
          },
          onDeadLetter: (p) => parked.record(p),
        })(s);
        subscriptions.push({ name: s.topic, group: s.groupId ?? name, sub });
        watchConsumers();
        return sub;
      },
      messaging: (tables) => {
        const { maxMessageBytes } = config.outbox;
        // The app's own module-level `typedOutbox(table)` keeps the configured limit too.
        setMessageLimit(tables.outbox, maxMessageBytes);
        stopHooks.unshift({
          name: "message limit",
          run: () => setMessageLimit(tables.outbox, undefined),
        });
        const relay = createRelay({
          handle,
          table: tables.outbox,
          bus,
          logger: logger.child({ component: "outbox-relay" }),
          metrics,
          maxMessageBytes,
        });
        relays.push(relay);
        watchOutbox(tables.outbox);
        const { outboxRetentionMs, inboxRetentionMs, everyMs } = config.housekeeping;
        every("prune", everyMs, async () => {
          const now = Date.now();
          const outbox = await pruneOutbox(
            handle.db,
            tables.outbox,
            new Date(now - outboxRetentionMs),
          );
          const inbox = await pruneInbox(handle.db, tables.inbox, new Date(now - inboxRetentionMs));
          metrics.outboxPruned.inc({ table: "outbox" }, outbox);
          metrics.outboxPruned.inc({ table: "inbox" }, inbox);
          if (outbox + inbox > 0) logger.debug({ outbox, inbox }, "pruned outbox and inbox");
        });
        return { outbox: typedOutbox(tables.outbox, { maxMessageBytes }), relay };
      },
      every,
      check: (checkName, run, options) =>
        checks.push({ name: checkName, required: options?.required ?? false, run }),
      readiness: () => readiness(name, checks),
      dlqTool,
      beforeScrape: (fn) => void scrapers.push(fn),
      vendor: (vendorName, client, fallback) => {
        if (client) stopHooks.push({ name: vendorName, run: () => client.close() });
        checks.push({
          name: vendorName,
          required: false,
          run: async () => {
            if (!client) return { status: "not_configured" };
            return client.breakerState() === "open"
              ? { status: "down", reason: `circuit open after repeated failures; ${fallback}` }
              : { status: "ok" };
          },
        });
      },
      onStop: (hookName, fn) => void stopHooks.push({ name: hookName, run: fn }),
    };

    // Stop order (reverse of this): HTTP first, then timers, subscriptions, relays, hooks.
    steps.push({
      name: "hooks",
      run: async () => {
        for (const h of stopHooks.reverse()) await h.run();
      },
    });
    steps.push({ name: "relays", run: () => Promise.all(relays.map((r) => r.stop())) });
    steps.push({
      name: "subscriptions",
      run: () => Promise.all(subscriptions.map((s) => s.sub.close())),
    });
    steps.push({
      name: "timers",
      run: async () => {
        for (const t of timers) clearInterval(t.timer);
        await Promise.all(timers.map((t) => t.inFlight()));
      },
    });
    const built = await spec.build(kit);
    for (const r of relays) r.start();
    steps.push({
      name: "http",
      run: () => closeHttp(app, config.shutdownGraceMs / 2, logger),
    });
    await app.ready();
    let url: string | undefined;
    if (deps.listen !== false) {
      url = await app.listen({ port: config.port, host: config.host });
      logger.info({ url }, `${name} listening`);
    }
    const health = config.health ?? { everyMs: 5_000, version: "dev" };
    const heartbeat: Heartbeat | undefined =
      usesBus && health.everyMs > 0
        ? createHeartbeat({
            service: name,
            bus,
            logger,
            everyMs: health.everyMs,
            version: health.version,
            readiness: () => readiness(name, checks),
            outbox: () => lag.latest(),
            consumers: () =>
              subscriptions.map((s) => ({ topic: s.name, group: s.group, sub: s.sub })),
            dlq: parked,
          })
        : undefined;
    // First to stop: nothing waits for a heartbeat in flight.
    if (heartbeat) steps.push({ name: "heartbeat", run: () => heartbeat.stop() });
    heartbeat?.start();
    return Object.assign(built, {
      name,
      app,
      logger,
      handle,
      bus,
      metrics,
      url,
      heartbeat,
      stop,
    });
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Embedded (PGlite) migrates at start; PostgreSQL must already be current (`pnpm db:migrate`).
 * With `wait`, an unreachable PostgreSQL is retried first (one connection probe per attempt),
 * so that only reaching it is retried, never the schema check.
 */
export async function openDatabase(
  options: DbOptions,
  logger?: Logger,
  wait?: { waitMs: number; logger: Logger },
): Promise<DbHandle> {
  const handle = await createDb(options, { logger: logger?.child({ component: "db" }) });
  try {
    if (handle.driver === "pglite") await migrate(handle);
    else {
      if (wait) await whenReachable("database", () => handle.db.execute(sql`select 1`), wait);
      await assertSchemaCurrent(handle);
    }
  } catch (error) {
    await handle.close();
    throw error;
  }
  logger?.debug({ driver: handle.driver }, "database open");
  return handle;
}

/** The bus of a service started with `bus: false`: any use is a programming error. */
function noBus(service: string): Bus {
  return new Proxy({} as Bus, {
    get(_target, prop) {
      if (prop === "then") return undefined;
      throw new Error(
        `${service} was started without a bus (bus: false); it cannot use bus.${String(prop)}`,
      );
    },
  });
}

/**
 * Stops taking requests and waits for those in flight; a request still open after
 * `forceAfterMs` (a handler stuck behind a stopping dependency, a client that keeps its
 * connection busy) has its connection closed, so a stopped service never keeps its
 * process alive. Its caller sees the connection drop and retries (webhook ids make that
 * safe); nothing it was told was accepted is lost.
 */
async function closeHttp(app: FastifyInstance, forceAfterMs: number, logger: Logger) {
  const closing = app.close();
  let timer: NodeJS.Timeout | undefined;
  const forced = new Promise<"force">((resolve) => {
    timer = setTimeout(() => resolve("force"), forceAfterMs);
  });
  try {
    if ((await Promise.race([closing, forced])) === "force") {
      logger.warn(
        { afterMs: forceAfterMs },
        "requests still open at shutdown: closing their connections",
      );
      app.server.closeAllConnections();
    }
    await closing;
  } finally {
    clearTimeout(timer);
  }
}

async function withDeadline(
  promise: Promise<unknown>,
  ms: number,
): Promise<"done" | "timeout" | Error> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => "done" as const,
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      ),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
