/**
 * Environment configuration as composable zod fragments. Each app builds its
 * schema from these (`ServiceConfig.and(KafkaConfig)…`) in `src/config.ts` and
 * parses `process.env` exactly once at boot; everything else receives the
 * parsed, camelCased object. A missing or invalid variable stops the process
 * with a message naming the variable and saying why.
 */
import { z } from "zod";

/** 0 asks the OS for a free port (tests, several services in one process). */
const port = z.coerce.number().int().min(0).max(65_535);
const csv = z
  .string()
  .min(1)
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const ServiceConfig = z
  .object({
    /** Name used in logs, client ids and Sentry; defaults per app. */
    SERVICE_NAME: z.string().min(1).optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    /** How long a stop may take in total before the process gives up on the rest. */
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    /** Published outbox rows are kept this long (for inspection), then pruned. */
    OUTBOX_RETENTION_HOURS: z.coerce
      .number()
      .min(0.01)
      .max(24 * 365)
      .default(24),
    /**
     * Processed-event ids are kept this long for deduplication; keep it longer than the
     * broker's retention, since an older message cannot be redelivered.
     */
    INBOX_RETENTION_DAYS: z.coerce.number().min(0.01).max(3650).default(8),
    /** How often the outbox and inbox are pruned. */
    PRUNE_EVERY_MS: z.coerce.number().int().min(1_000).default(600_000),
    /**
     * How long a starting service keeps retrying a database or broker that cannot be
     * reached yet (one log line per attempt) before it gives up and exits 1. A
     * deterministic failure (schema not current, bad credentials) fails at once.
     */
    STARTUP_WAIT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
    /**
     * The largest message (key + value + headers, bytes) the outbox accepts: `enqueue`
     * refuses a larger event, and the relay quarantines a larger stored row instead of
     * sending it. Keep it under the broker's `max.message.bytes` (Kafka: 1 MiB + 12).
     */
    OUTBOX_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1_024).default(1_000_000),
    /** `/readyz` reports the outbox down while its oldest unpublished row is older than this. */
    OUTBOX_MAX_LAG_MS: z.coerce.number().int().min(100).default(60_000),
    /**
     * How often the service publishes its heartbeat on `service.health.v1` (readiness,
     * outbox, DLQ, consumers: the gateway's Health page). 0 turns it off. A service not
     * heard for 3× this long shows as stale there.
     */
    HEALTH_EVERY_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(600_000)
      .refine((ms) => ms === 0 || ms >= 100, "must be 0 (off) or at least 100")
      .default(5_000),
    /** What this build is (image tag, commit), shown on the Health page. */
    SERVICE_VERSION: z.string().min(1).max(100).default("dev"),
  })
  .transform((e) => ({
    serviceName: e.SERVICE_NAME,
    logLevel: e.LOG_LEVEL,
    nodeEnv: e.NODE_ENV,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    startupWaitMs: e.STARTUP_WAIT_MS,
    housekeeping: {
      outboxRetentionMs: e.OUTBOX_RETENTION_HOURS * 3_600_000,
      inboxRetentionMs: e.INBOX_RETENTION_DAYS * 86_400_000,
      everyMs: e.PRUNE_EVERY_MS,
    },
    outbox: { maxMessageBytes: e.OUTBOX_MAX_MESSAGE_BYTES, maxLagMs: e.OUTBOX_MAX_LAG_MS },
    health: { everyMs: e.HEALTH_EVERY_MS, version: e.SERVICE_VERSION },
  }));
export type ServiceConfig = z.infer<typeof ServiceConfig>;

export const HttpConfig = (defaultPort: number) =>
  z
    .object({
      PORT: port.default(defaultPort),
      /** Bind address; loopback unless deliberately exposed. */
      HOST: z.string().default("127.0.0.1"),
    })
    .transform((e) => ({ port: e.PORT, host: e.HOST }));

/**
 * Which bus adapter to use: the in-process bus (embedded mode) or Kafka, and for Kafka
 * how to reach it: TLS (optionally with a private CA) and SASL PLAIN / SCRAM. The ACLs
 * each service's principal needs are in docs/adr/0008-transient-failures.md.
 */
export const BusConfig = z
  .object({
    BUS_DRIVER: z.enum(["memory", "kafka"]).default("memory"),
    /** Comma-separated `host:port` list; required when BUS_DRIVER=kafka. */
    KAFKA_BROKERS: csv.optional(),
    KAFKA_CLIENT_ID: z.string().min(1).default("pipeline-whisperer"),
    /** Partitions for topics this process creates (existing topics are left alone). */
    KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(6),
    KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).default(1),
    /** Namespace for topic names on a shared cluster, e.g. `staging.`. */
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, "letters, digits, . _ - only")
      .default(""),
    /** TLS to the brokers: on | off (also true/false, 1/0, yes/no). Default off. */
    KAFKA_SSL: z.stringbool().default(false),
    /**
     * PEM file of the CA that signed the brokers' certificates, read once at boot; it
     * replaces the system's trusted roots. Unset: the system roots. Needs KAFKA_SSL=on.
     */
    KAFKA_SSL_CA_FILE: z
      .string()
      .optional()
      .transform((path, ctx) => {
        if (path === undefined) return undefined;
        try {
          const pem = process.getBuiltinModule("node:fs").readFileSync(path, "utf8");
          if (pem.includes("-----BEGIN CERTIFICATE-----")) return pem;
          ctx.addIssue({ code: "custom", message: `${path} holds no PEM certificate` });
        } catch (error) {
          ctx.addIssue({
            code: "custom",
            message: `cannot read ${path}: ${(error as Error).message}`,
          });
        }
        return z.NEVER;
      }),
    /** SASL mechanism: plain | scram-sha-256 | scram-sha-512. Unset: no SASL. */
    KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
    /** The service's principal on the cluster; with KAFKA_SASL_MECHANISM. */
    KAFKA_SASL_USERNAME: z.string().min(1).optional(),
    /** Its password (a secret: from the secret store, never from a committed file). */
    KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  })
  .superRefine((e, ctx) => {
    const issue = (variable: string, message: string) =>
      ctx.addIssue({ code: "custom", path: [variable], message });
    if (e.BUS_DRIVER === "kafka" && !e.KAFKA_BROKERS?.length)
      issue("KAFKA_BROKERS", "required when BUS_DRIVER=kafka (e.g. 127.0.0.1:9092)");
    if (e.KAFKA_SSL_CA_FILE !== undefined && !e.KAFKA_SSL)
      issue("KAFKA_SSL_CA_FILE", "only used with KAFKA_SSL=on; set it, or unset this");
    if (e.KAFKA_SASL_MECHANISM) {
      for (const variable of ["KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"] as const)
        if (!e[variable]) issue(variable, "required when KAFKA_SASL_MECHANISM is set");
      if (e.KAFKA_SASL_MECHANISM === "plain" && !e.KAFKA_SSL)
        issue(
          "KAFKA_SSL",
          "must be on with KAFKA_SASL_MECHANISM=plain (the password would cross the network in clear)",
        );
    } else if (e.KAFKA_SASL_USERNAME || e.KAFKA_SASL_PASSWORD) {
      issue(
        "KAFKA_SASL_MECHANISM",
        "required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (plain | scram-sha-256 | scram-sha-512)",
      );
    }
  })
  .transform((e) => ({
    bus:
      e.BUS_DRIVER === "kafka"
        ? ({
            driver: "kafka",
            brokers: e.KAFKA_BROKERS ?? [],
            clientId: e.KAFKA_CLIENT_ID,
            partitions: e.KAFKA_TOPIC_PARTITIONS,
            replicationFactor: e.KAFKA_REPLICATION_FACTOR,
            topicPrefix: e.KAFKA_TOPIC_PREFIX,
            ...(e.KAFKA_SSL ? { tls: e.KAFKA_SSL_CA_FILE ? { ca: e.KAFKA_SSL_CA_FILE } : {} } : {}),
            ...(e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD
              ? {
                  sasl: {
                    mechanism: e.KAFKA_SASL_MECHANISM,
                    username: e.KAFKA_SASL_USERNAME,
                    password: e.KAFKA_SASL_PASSWORD,
                  },
                }
              : {}),
          } as const)
        : ({ driver: "memory", partitions: e.KAFKA_TOPIC_PARTITIONS } as const),
  }));
export type BusConfig = z.infer<typeof BusConfig>;

/** PostgreSQL when DATABASE_URL is set, else embedded PGlite persisted under PGLITE_DIR. */
export const DatabaseConfig = z
  .object({
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      // The driver parses it only at the first query, where a bad one is a stack trace.
      .refine((url) => URL.canParse(url), "is not a valid URL (check the host and any %-encoding)")
      .optional(),
    /** Directory for embedded PGlite data; used when DATABASE_URL is unset. */
    PGLITE_DIR: z.string().default(".data/pglite"),
    /** Connections per service instance (PostgreSQL only). */
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(20),
    /**
     * Server side: PostgreSQL cancels a statement running longer than this (`statement_timeout`,
     * SQLSTATE 57014). 0 disables. Migrations (`pnpm db:migrate`) are not limited.
     */
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    /**
     * Client side: a query with no answer after this long fails (`query_timeout`) — a
     * server that hangs or a network that drops packets silently. Longer than the
     * statement timeout, so that a slow statement is cancelled by the server first. 0 disables.
     */
    DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(0).default(35_000),
  })
  .transform((e) => ({
    database: e.DATABASE_URL
      ? ({
          driver: "pg",
          url: e.DATABASE_URL,
          maxConnections: e.DATABASE_POOL_MAX,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS,
        } as const)
      : ({ driver: "pglite", dir: e.PGLITE_DIR } as const),
  }));
export type DatabaseConfig = z.infer<typeof DatabaseConfig>;

/** What every service parses: name, logging, shutdown and housekeeping, HTTP, bus, database. */
export const ServiceBaseConfig = (defaultPort: number) =>
  ServiceConfig.and(HttpConfig(defaultPort)).and(BusConfig).and(DatabaseConfig);

export class ConfigError extends Error {
  readonly issues: { variable: string; message: string }[];
  constructor(issues: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${issues.map((i) => `  - ${i.variable}: ${i.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Parses `env` with `schema`; throws a ConfigError naming each bad variable. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  // An empty variable (`FOO=`) means unset, as most tools treat it.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join(".") || "(environment)",
      message: issue.message,
    })),
  );
}

/** For `main.ts`: parse once, or print what is wrong and exit(1). */
export function loadConfig<S extends z.ZodType>(schema: S, env = process.env): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
export * from "./vendor-url.ts";
