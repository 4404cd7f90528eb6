// BusConfig's security settings: TLS (with a CA file read at boot) and SASL, and an error
// naming the variable whenever they are only half configured.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BusConfig, ConfigError, parseConfig } from "./index.ts";

const kafka = { BUS_DRIVER: "kafka", KAFKA_BROKERS: "b1:9093,b2:9093" };
const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const dir = mkdtempSync(join(tmpdir(), "pw-config-"));
const caFile = join(dir, "ca.pem");
writeFileSync(caFile, PEM);
const notPem = join(dir, "not.pem");
writeFileSync(notPem, "hello");

/** The variables a ConfigError names, with their messages. */
function problems(env: Record<string, string>): Record<string, string> {
  try {
    parseConfig(BusConfig, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return Object.fromEntries(error.issues.map((i) => [i.variable, i.message]));
  }
  throw new Error("expected a ConfigError");
}

describe("BusConfig security", () => {
  it("is plaintext without SASL by default", () => {
    const { bus } = parseConfig(BusConfig, kafka);
    expect(bus).toEqual({
      driver: "kafka",
      brokers: ["b1:9093", "b2:9093"],
      clientId: "pipeline-whisperer",
      partitions: 6,
      replicationFactor: 1,
      topicPrefix: "",
    });
  });

  it("turns on TLS with the system roots, or with a CA read from a file at boot", () => {
    expect(parseConfig(BusConfig, { ...kafka, KAFKA_SSL: "on" }).bus).toMatchObject({ tls: {} });
    expect(parseConfig(BusConfig, { ...kafka, KAFKA_SSL: "true" }).bus).toMatchObject({ tls: {} });
    expect(parseConfig(BusConfig, { ...kafka, KAFKA_SSL: "off" }).bus).not.toHaveProperty("tls");
    const { bus } = parseConfig(BusConfig, {
      ...kafka,
      KAFKA_SSL: "on",
      KAFKA_SSL_CA_FILE: caFile,
    });
    expect(bus).toMatchObject({ tls: { ca: PEM } });
  });

  it.each(["plain", "scram-sha-256", "scram-sha-512"] as const)(
    "passes SASL %s through",
    (mechanism) => {
      const { bus } = parseConfig(BusConfig, {
        ...kafka,
        KAFKA_SSL: "on",
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: "svc-scoring",
        KAFKA_SASL_PASSWORD: "s3cret",
      });
      expect(bus).toMatchObject({
        tls: {},
        sasl: { mechanism, username: "svc-scoring", password: "s3cret" },
      });
    },
  );

  it("names the variable when TLS or SASL is half configured", () => {
    expect(problems({ ...kafka, KAFKA_SSL: "maybe" })).toHaveProperty("KAFKA_SSL");
    expect(problems({ ...kafka, KAFKA_SSL_CA_FILE: caFile })).toEqual({
      KAFKA_SSL_CA_FILE: "only used with KAFKA_SSL=on; set it, or unset this",
    });
    expect(
      problems({ ...kafka, KAFKA_SSL: "on", KAFKA_SSL_CA_FILE: join(dir, "missing.pem") }),
    ).toMatchObject({
      KAFKA_SSL_CA_FILE: expect.stringMatching(/^cannot read .*missing\.pem: ENOENT/),
    });
    expect(problems({ ...kafka, KAFKA_SSL: "on", KAFKA_SSL_CA_FILE: notPem })).toMatchObject({
      KAFKA_SSL_CA_FILE: expect.stringMatching(/holds no PEM certificate/),
    });
    expect(problems({ ...kafka, KAFKA_SASL_MECHANISM: "scram-sha-512" })).toEqual({
      KAFKA_SASL_USERNAME: "required when KAFKA_SASL_MECHANISM is set",
      KAFKA_SASL_PASSWORD: "required when KAFKA_SASL_MECHANISM is set",
    });
    expect(
      problems({ ...kafka, KAFKA_SASL_MECHANISM: "scram-sha-256", KAFKA_SASL_USERNAME: "svc" }),
    ).toEqual({ KAFKA_SASL_PASSWORD: "required when KAFKA_SASL_MECHANISM is set" });
    expect(problems({ ...kafka, KAFKA_SASL_USERNAME: "svc", KAFKA_SASL_PASSWORD: "pw" })).toEqual({
      KAFKA_SASL_MECHANISM: expect.stringMatching(/^required when KAFKA_SASL_USERNAME/),
    });
    expect(problems({ ...kafka, KAFKA_SASL_MECHANISM: "gssapi" })).toHaveProperty(
      "KAFKA_SASL_MECHANISM",
    );
    // PLAIN sends the password as is: only over TLS.
    expect(
      problems({
        ...kafka,
        KAFKA_SASL_MECHANISM: "plain",
        KAFKA_SASL_USERNAME: "svc",
        KAFKA_SASL_PASSWORD: "pw",
      }),
    ).toEqual({ KAFKA_SSL: expect.stringMatching(/^must be on with KAFKA_SASL_MECHANISM=plain/) });
  });

  it("leaves the in-process bus alone", () => {
    expect(parseConfig(BusConfig, { KAFKA_SSL: "on" }).bus).toEqual({
      driver: "memory",
      partitions: 6,
    });
  });
});
