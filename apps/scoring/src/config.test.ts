// Scoring's configuration: the stackAI base URL carries the API key, so it must be https
// (http only for a loopback test server, when explicitly allowed); operator command keys
// and the command max age are checked like every consumer checks them.
import { ConfigError } from "@pw/config";
import { describe, expect, it } from "vitest";
import { scoringConfig } from "./config.ts";

const flow = { STACKAI_API_KEY: "sk-test", STACKAI_ORG_ID: "org", STACKAI_FLOW_ID: "flow" };

describe("scoring config", () => {
  it("refuses an http stackAI base URL, naming the variable", () => {
    const error = (() => {
      try {
        scoringConfig({ ...flow, STACKAI_BASE_URL: "http://api.stack-ai.com" });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.variable)).toEqual(["STACKAI_BASE_URL"]);
  });

  it("accepts https, and a loopback test server with ALLOW_INSECURE_VENDOR_URLS=1", () => {
    expect(
      scoringConfig({ ...flow, STACKAI_BASE_URL: "https://api.stack-ai.com" }).stackai?.baseUrl,
    ).toBe("https://api.stack-ai.com");
    expect(() => scoringConfig({ ...flow, STACKAI_BASE_URL: "http://127.0.0.1:4010" })).toThrow(
      /STACKAI_BASE_URL/,
    );
    const local = scoringConfig({
      ...flow,
      STACKAI_BASE_URL: "http://127.0.0.1:4010",
      ALLOW_INSECURE_VENDOR_URLS: "1",
    });
    expect(local.stackai?.baseUrl).toBe("http://127.0.0.1:4010");
  });

  it("names a bad operator key, and a command max age the inbox could not guard", () => {
    expect(() => scoringConfig({ OPERATOR_COMMAND_PUBLIC_KEYS: "gw:not-a-key" })).toThrow(
      /OPERATOR_COMMAND_PUBLIC_KEYS/,
    );
    expect(() =>
      scoringConfig({
        OPERATOR_COMMAND_MAX_AGE_MS: String(10 * 86_400_000),
        INBOX_RETENTION_DAYS: "8",
      }),
    ).toThrow(/OPERATOR_COMMAND_MAX_AGE_MS: .*INBOX_RETENTION_DAYS/);
    expect(scoringConfig({}).operatorCommands.keys.size).toBe(0);
  });
});
