// Ingest's configuration: the Lightfield base URL carries the API key, so it must be https
// (http only for a loopback test server, when explicitly allowed).
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ingestConfig } from "./config.ts";

const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString("base64")}`;

describe("ingest config", () => {
  it("defaults to Lightfield's https API", () => {
    expect(ingestConfig({ WEBHOOK_SECRET }).lightfield.baseUrl).toBe("https://api.lightfield.app");
  });

  it("refuses an http Lightfield base URL, naming the variable", () => {
    expect(() =>
      ingestConfig({ WEBHOOK_SECRET, LIGHTFIELD_BASE_URL: "http://api.lightfield.app" }),
    ).toThrow(/LIGHTFIELD_BASE_URL: must be https/);
  });

  it("accepts a loopback test server only with ALLOW_INSECURE_VENDOR_URLS=1", () => {
    const env = { WEBHOOK_SECRET, LIGHTFIELD_BASE_URL: "http://127.0.0.1:4011" };
    expect(() => ingestConfig(env)).toThrow(/LIGHTFIELD_BASE_URL/);
    expect(ingestConfig({ ...env, ALLOW_INSECURE_VENDOR_URLS: "1" }).lightfield.baseUrl).toBe(
      "http://127.0.0.1:4011",
    );
  });

  it("reads the unsubscribe secrets from the list and the singular variable; none is not configured", () => {
    const [a, b, c] = ["a".repeat(16), "b".repeat(20), "c,with-a-comma-0123"];
    expect(ingestConfig({ WEBHOOK_SECRET }).unsubscribeSecrets).toEqual([]);
    expect(
      ingestConfig({ WEBHOOK_SECRET, UNSUBSCRIBE_SECRETS: ` ${a}, ${b},`, UNSUBSCRIBE_SECRET: a })
        .unsubscribeSecrets,
    ).toEqual([a, b]);
    // The singular one is dispatch's variable, taken verbatim.
    expect(ingestConfig({ WEBHOOK_SECRET, UNSUBSCRIBE_SECRET: c }).unsubscribeSecrets).toEqual([c]);
    expect(() => ingestConfig({ WEBHOOK_SECRET, UNSUBSCRIBE_SECRETS: `${a},short` })).toThrow(
      /UNSUBSCRIBE_SECRETS: each secret must be at least 16 characters/,
    );
    expect(() => ingestConfig({ WEBHOOK_SECRET, UNSUBSCRIBE_SECRET: "short" })).toThrow(
      /UNSUBSCRIBE_SECRET: at least 16 characters/,
    );
  });
});
