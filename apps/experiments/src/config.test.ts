// The engine's configuration: defaults a new install can run with, errors that name
// the variable, and a stackAI flow used only when everything it needs is set.
import { ConfigError, parseConfig } from "@pw/config";
import { commandKeyPair } from "@pw/events";
import { describe, expect, it } from "vitest";
import { ExperimentsConfig } from "./config.ts";

describe("experiments config", () => {
  it("runs with defaults: meeting reward, 500 sends a day, built-in copy and intent", () => {
    const c = parseConfig(ExperimentsConfig, {});
    expect(c).toMatchObject({
      port: 4300,
      reward: "meeting_booked",
      capacity: { perDay: 500, nurtureAfterHours: 72 },
      pooledPriorStrength: 50,
      stackai: { rewrite: undefined, intent: undefined },
    });
    expect(c.evidenceHalfLifeDays).toBeUndefined();
  });

  it("names each bad variable and says why", () => {
    try {
      parseConfig(ExperimentsConfig, {
        EXPERIMENT_DAILY_CAPACITY: "lots",
        EXPERIMENT_REWARD: "clicked",
        EXPERIMENT_GUARDRAIL_BOUNCE_RATE: "5",
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const vars = (error as ConfigError).issues.map((i) => i.variable).sort();
      expect(vars).toEqual([
        "EXPERIMENT_DAILY_CAPACITY",
        "EXPERIMENT_GUARDRAIL_BOUNCE_RATE",
        "EXPERIMENT_REWARD",
      ]);
    }
  });

  it("uses a stackAI flow only when base, key, org and that flow's id are all set", () => {
    const base = {
      STACKAI_BASE_URL: "https://api.stack-ai.example",
      STACKAI_API_KEY: "sk_test",
      STACKAI_ORG_ID: "org1",
    };
    const c = parseConfig(ExperimentsConfig, { ...base, STACKAI_INTENT_FLOW_ID: "intent" });
    expect(c.stackai.intent).toMatchObject({ flowId: "intent", orgId: "org1", timeoutMs: 3000 });
    expect(c.stackai.rewrite).toBeUndefined();
    const noKey = parseConfig(ExperimentsConfig, {
      STACKAI_BASE_URL: base.STACKAI_BASE_URL,
      STACKAI_ORG_ID: "org1",
      STACKAI_REWRITE_FLOW_ID: "rw",
    });
    expect(noKey.stackai.rewrite).toBeUndefined();
  });

  it("refuses an http stackAI base URL unless it is a loopback test server explicitly allowed", () => {
    const flow = {
      STACKAI_API_KEY: "sk_test",
      STACKAI_ORG_ID: "org1",
      STACKAI_REWRITE_FLOW_ID: "rw",
    };
    expect(() =>
      parseConfig(ExperimentsConfig, { ...flow, STACKAI_BASE_URL: "http://api.stack-ai.com" }),
    ).toThrow(/STACKAI_BASE_URL: must be https/);
    expect(() =>
      parseConfig(ExperimentsConfig, { ...flow, STACKAI_BASE_URL: "http://127.0.0.1:4010" }),
    ).toThrow(/STACKAI_BASE_URL/);
    const local = parseConfig(ExperimentsConfig, {
      ...flow,
      STACKAI_BASE_URL: "http://127.0.0.1:4010",
      ALLOW_INSECURE_VENDOR_URLS: "1",
    });
    expect(local.stackai.rewrite?.baseUrl).toBe("http://127.0.0.1:4010");
  });

  it("reads operator-command public keys (several, for rotation); none configured refuses every command", () => {
    const a = commandKeyPair("gw-2026-01");
    const b = commandKeyPair("gw-2026-02");
    const c = parseConfig(ExperimentsConfig, {
      OPERATOR_COMMAND_PUBLIC_KEYS: `gw-2026-01:${a.publicKeyText}, gw-2026-02:${b.publicKeyText}`,
    });
    expect([...c.operatorCommands.keys.keys()]).toEqual(["gw-2026-01", "gw-2026-02"]);
    expect(c.operatorCommands).toMatchObject({ maxAgeMs: 86_400_000, maxSkewMs: 300_000 });
    expect(parseConfig(ExperimentsConfig, {}).operatorCommands.keys.size).toBe(0);
  });

  it("names a bad operator-command key, and a max age the inbox could not back", () => {
    const vars = (env: Record<string, string>) => {
      try {
        parseConfig(ExperimentsConfig, env);
        return [];
      } catch (error) {
        return (error as ConfigError).issues.map((i) => `${i.variable}: ${i.message}`);
      }
    };
    expect(vars({ OPERATOR_COMMAND_PUBLIC_KEYS: "gw:not-a-key" })[0]).toMatch(
      /^OPERATOR_COMMAND_PUBLIC_KEYS: .*gw/,
    );
    expect(vars({ OPERATOR_COMMAND_PUBLIC_KEYS: "no-key-id" })[0]).toMatch(
      /^OPERATOR_COMMAND_PUBLIC_KEYS: /,
    );
    expect(
      vars({ OPERATOR_COMMAND_MAX_AGE_MS: String(10 * 86_400_000), INBOX_RETENTION_DAYS: "8" })[0],
    ).toMatch(/^OPERATOR_COMMAND_MAX_AGE_MS: .*INBOX_RETENTION_DAYS/);
  });
});
