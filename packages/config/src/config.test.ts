import { describe, expect, it } from "vitest";
import {
  BusConfig,
  ConfigError,
  DatabaseConfig,
  HttpConfig,
  parseConfig,
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
    expect(cfg.database).toEqual({ driver: "pg", url: "postgres://u:p@h:5432/db" });
  });

  it("treats an empty variable as unset", () => {
    const cfg = parseConfig(DatabaseConfig, { DATABASE_URL: "", PGLITE_DIR: "/tmp/x" });
    expect(cfg.database).toEqual({ driver: "pglite", dir: "/tmp/x" });
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
