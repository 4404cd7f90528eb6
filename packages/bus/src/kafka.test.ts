// The Kafka client settings built from the bus options: TLS and SASL reach kafkajs as
// configured (no SASL broker runs here, so this is where the wiring is checked).
import { describe, expect, it } from "vitest";
import { kafkaClientConfig } from "./kafka.ts";

describe("kafkaClientConfig", () => {
  it("is plaintext without SASL unless asked", () => {
    const config = kafkaClientConfig({ brokers: ["b:9092"] });
    expect(config.ssl).toBeUndefined();
    expect(config.sasl).toBeUndefined();
  });

  it("passes TLS (system roots or a private CA) and SASL to kafkajs", () => {
    expect(kafkaClientConfig({ brokers: ["b:9093"], tls: {} }).ssl).toBe(true);
    const config = kafkaClientConfig({
      brokers: ["b:9093"],
      tls: { ca: "-----BEGIN CERTIFICATE-----" },
      sasl: { mechanism: "scram-sha-512", username: "svc-scoring", password: "s3cret" },
    });
    expect(config.ssl).toEqual({ ca: ["-----BEGIN CERTIFICATE-----"] });
    expect(config.sasl).toEqual({
      mechanism: "scram-sha-512",
      username: "svc-scoring",
      password: "s3cret",
    });
  });
});
