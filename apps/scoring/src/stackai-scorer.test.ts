// Scoring's flow output contract on top of the shared client: what the scoring
// flow must answer, against the stackAI contract test server.
import { reasonOf } from "@pw/stackai";
import { useStackAiServer } from "@pw/stackai/test-server";
import { describe, expect, it } from "vitest";
import { createStackAiScorer } from "./stackai-scorer.ts";

const vendor = useStackAiServer("scoring");
const scorer = () => createStackAiScorer(vendor.client({ maxRetries: 0 }));

describe("stackAI scorer", () => {
  it("accepts the scoring flow's JSON (string or labelled reasons)", async () => {
    const out0 = {
      score: 82,
      tier: "hot",
      segment: "exec-mid",
      reasons: ["Requested a demo", { label: "VP at a SaaS company", contribution: 12 }],
      message: "Strong fit.",
    };
    vendor.reply({ out0 });
    expect(await scorer().score("lead-1", {})).toEqual(out0);
  });

  it.each([
    ["a score out of range and an unknown tier", { score: 180, tier: "boiling" }],
    ["no segment", { score: 50, tier: "warm", reasons: [] }],
    [
      "too many reasons",
      { score: 50, tier: "warm", segment: "s", reasons: Array.from({ length: 21 }, () => "r") },
    ],
  ])("rejects %s as invalid_output", async (_name, out0) => {
    vendor.reply({ out0 });
    const reason = await scorer()
      .score("lead-1", {})
      .then(() => "ok", reasonOf);
    expect(reason).toBe("invalid_output");
  });
});
