import { describe, expect, it } from "vitest";
import {
  BusConfig,
  ConfigError,
  DatabaseConfig,
  HttpConfig,
  parseConfig,
  ServiceBaseConfig,
  ServiceConfig,
} from "./index.ts";

describe("config", () => {
  it("composes fragments into one camelCased object with defaults", () => {
    const cfg = parseConfig(
      ServiceConfig.and(HttpConfig(4100)).and(BusConfig).and(DatabaseConfig),
      {
        LOG_LEVEL: "debug",
      },
    );
    expect(cfg).toMatchObject({
      logLevel: "debug",
      port: 4100,
      host: "127.0.0.1",
      bus: { driver: "memory" },
      database: { driver: "pglite", dir: ".data/pglite" },
    });
  });

  it("selects kafka and postgres when configured", () => {
    const cfg = parseConfig(BusConfig.and(DatabaseConfig), {
      BUS_DRIVER: "kafka",
      KAFKA_BROKERS: "a:9092, b:9092",
      DATABASE_URL: "postgres://u:p@h:5432/db",
    });
    expect(cfg.bus).toMatchObject({ driver: "kafka", brokers: ["a:9092", "b:9092"] });
    expect(cfg.database).toEqual({
      driver: "pg",
      url: "postgres://u:p@h:5432/db",
      maxConnections: 20,
      statementTimeoutMs: 30_000,
      queryTimeoutMs: 35_000,
    });
  });

  it("gives every service the kit's settings: grace period, retention, pool size, any free port", () => {
    const cfg = parseConfig(ServiceBaseConfig(4200), {
      PORT: "0",
      SHUTDOWN_GRACE_MS: "2500",
      OUTBOX_RETENTION_HOURS: "2",
      INBOX_RETENTION_DAYS: "10",
      DATABASE_URL: "postgres://h/db",
      DATABASE_POOL_MAX: "5",
    });
    expect(cfg).toMatchObject({
      port: 0,
      shutdownGraceMs: 2500,
      housekeeping: { outboxRetentionMs: 7_200_000, inboxRetentionMs: 864_000_000 },
      database: { driver: "pg", maxConnections: 5 },
    });
    expect(() => parseConfig(ServiceBaseConfig(4200), { SHUTDOWN_GRACE_MS: "5" })).toThrow(
      /SHUTDOWN_GRACE_MS: .*>=100/,
    );
  });

  it("gives every service a heartbeat every 5 s by default, off with 0, never faster than 100 ms", () => {
    expect(parseConfig(ServiceBaseConfig(4200), {}).health).toEqual({
      everyMs: 5_000,
      version: "dev",
    });
    expect(
      parseConfig(ServiceBaseConfig(4200), { HEALTH_EVERY_MS: "0", SERVICE_VERSION: "1.4.0" })
        .health,
    ).toEqual({ everyMs: 0, version: "1.4.0" });
    expect(() => parseConfig(ServiceBaseConfig(4200), { HEALTH_EVERY_MS: "50" })).toThrow(
      /HEALTH_EVERY_MS: must be 0 \(off\) or at least 100/,
    );
  });

  it("treats an empty variable as unset", () => {
    const cfg = parseConfig(DatabaseConfig, { DATABASE_URL: "", PGLITE_DIR: "/tmp/x" });
    expect(cfg.database).toEqual({ driver: "pglite", dir: "/tmp/x" });
  });

  it("refuses a DATABASE_URL the driver could not parse, naming it", () => {
    expect(() => parseConfig(DatabaseConfig, { DATABASE_URL: "postgres://pw:pw@[bad/db" })).toThrow(
      /DATABASE_URL: is not a valid URL/,
    );
  });

  it("names every bad variable and why", () => {
    let error: unknown;
    try {
      parseConfig(ServiceConfig.and(HttpConfig(1)).and(BusConfig).and(DatabaseConfig), {
        PORT: "70000",
        BUS_DRIVER: "kafka",
        DATABASE_URL: "mysql://x",
        LOG_LEVEL: "loud",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const vars = (error as ConfigError).issues.map((i) => i.variable).sort();
    expect(vars).toEqual(["DATABASE_URL", "KAFKA_BROKERS", "LOG_LEVEL", "PORT"]);
    expect((error as ConfigError).message).toContain(
      "KAFKA_BROKERS: required when BUS_DRIVER=kafka",
    );
    expect((error as ConfigError).message).toContain("DATABASE_URL: must be a postgres://");
  });
});
