// Scoring's flow output contract on top of the shared client: what the scoring
// flow must answer, against a local server speaking the stackAI contract.
import { createServer, type Server } from "node:http";
import { createStackAiClient, reasonOf, type StackAiClient } from "@pw/stackai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStackAiScorer } from "./stackai-scorer.ts";

let out0: unknown;
let server: Server;
let client: StackAiClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () =>
      res.end(JSON.stringify({ outputs: { "out-0": JSON.stringify(out0) }, state: "COMPLETED" })),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  client = createStackAiClient({
    baseUrl: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`,
    apiKey: "k",
    orgId: "o",
    flowId: "scoring",
    maxRetries: 0,
  });
});
afterAll(async () => {
  await client.close();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("stackAI scorer", () => {
  it("accepts the scoring flow's JSON (string or labelled reasons)", async () => {
    out0 = {
      score: 82,
      tier: "hot",
      segment: "exec-mid",
      reasons: ["Requested a demo", { label: "VP at a SaaS company", contribution: 12 }],
      message: "Strong fit.",
    };
    expect(await createStackAiScorer(client).score("lead-1", {})).toEqual(out0);
  });

  it.each([
    ["a score out of range and an unknown tier", { score: 180, tier: "boiling" }],
    ["no segment", { score: 50, tier: "warm", reasons: [] }],
    [
      "too many reasons",
      { score: 50, tier: "warm", segment: "s", reasons: Array.from({ length: 21 }, () => "r") },
    ],
  ])("rejects %s as invalid_output", async (_name, body) => {
    out0 = body;
    const reason = await createStackAiScorer(client)
      .score("lead-1", {})
      .then(() => "ok", reasonOf);
    expect(reason).toBe("invalid_output");
  });
});
