// The engine's configuration: defaults a new install can run with, errors that name
// the variable, and a stackAI flow used only when everything it needs is set.
import { ConfigError, parseConfig } from "@pw/config";
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
});
