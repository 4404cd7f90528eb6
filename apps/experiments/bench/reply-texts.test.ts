// The simulator's reply texts (`pnpm sim:engine`, the demo) reach the engine as real replies
// do, so each must be read as the intent it was written for — by the built-in rules and by
// the classifier the engine runs without a stackAI flow — or a simulated objection would
// not count towards the negative-reply guardrail.

import { seededRng } from "@pw/bandit";
import { REPLY_TEXTS, replyText } from "@pw/simulator";
import { describe, expect, it } from "vitest";
import { classifyReply, createIntentClassifier, REPLY_INTENTS } from "../src/intent.ts";

describe("the simulator's reply texts", () => {
  it("cover every reply intent the engine knows", () => {
    expect(Object.keys(REPLY_TEXTS).sort()).toEqual([...REPLY_INTENTS].sort());
  });

  it.each(REPLY_INTENTS)("%s texts are classified as %s", async (intent) => {
    const classifier = createIntentClassifier();
    for (const text of REPLY_TEXTS[intent]) {
      expect(classifyReply(text), text).toBe(intent);
      expect((await classifier.classify(text)).intent, text).toBe(intent);
    }
  });

  it("replyText picks among the intent's texts", () => {
    const rng = seededRng(1);
    const seen = new Set(Array.from({ length: 200 }, () => replyText("objection", rng)));
    expect([...seen].sort()).toEqual([...REPLY_TEXTS.objection].sort());
  });
});
