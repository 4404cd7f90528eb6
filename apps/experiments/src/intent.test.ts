// Reply intent: the built-in rules on realistic replies (quoted history and
// signatures included), and the stackAI intent flow with its fallback to the
// rules, against a local server speaking the stackAI contract.
import { Writable } from "node:stream";
import { createLogger } from "@pw/logger";
import { useStackAiServer } from "@pw/stackai/test-server";
import { describe, expect, it } from "vitest";
import { classifyReply, createIntentClassifier, stripQuoted } from "./intent.ts";

const TABLE: [string, string][] = [
  ["Sounds interesting — can you send me pricing?", "positive"],
  ["Yes, let's talk next week. Here's my calendar link.", "positive"],
  ["Happy to chat, when are you free Thursday?", "positive"],
  ["Thanks, but we already use Outreach and are happy with it.", "objection"],
  ["Not interested.", "objection"],
  ["I'm the wrong person for this, sorry.", "objection"],
  ["I am out of the office until Dec 2 with limited access to email.", "out_of_office"],
  ["Automatic reply: on parental leave, interested parties contact Sam.", "out_of_office"],
  ["Please remove me from your list.", "unsubscribe_request"],
  ["Stop emailing me. Not interested.", "unsubscribe_request"],
  ["Who is this?", "neutral"],
  ["", "neutral"],
  // Realistic and tricky ones.
  ["Not interested right now but maybe next quarter.", "objection"],
  ["please send pricing", "positive"],
  ["I'm on leave until Monday, back then.", "out_of_office"],
  ["take me off this list", "unsubscribe_request"],
  ["who is this?", "neutral"],
  ["STOP", "unsubscribe_request"],
  ["What would it cost for a team of 20 reps?", "positive"],
  ["I no longer work at Acme — try jane@acme.io instead.", "objection"],
  ["Thanks for reaching out.", "neutral"],
  // Our own quoted email must not decide the intent.
  [
    "Sure, send me more details.\n\nOn Tue, Nov 24, 2026 at 9:02 AM Pipeline Whisperer <hi@pw.dev> wrote:\n> Hi Ada,\n> Not interested? Reply to opt out and we will unsubscribe you.",
    "positive",
  ],
  [
    "Thanks.\n\n> Hi Ada — worth 15 minutes? Let me know if you are interested.\n> Happy to chat.",
    "neutral",
  ],
  [
    "Not a fit for us, sorry.\n\n-----Original Message-----\nFrom: Sam <sam@pw.dev>\nSent: Monday\nSubject: Quick question\n\nInterested in a demo? Let's talk.",
    "objection",
  ],
  // A signature that mentions being out of office is not an auto-reply.
  ["Not a fit for us, sorry.\n-- \nSam Lee | Head of Ops\nOOO on Fridays", "objection"],
  ["Let's chat Tuesday at 10.\n\nSent from my iPhone\n\n> Unsubscribe here", "positive"],
  // A Gmail header wrapped over two lines.
  [
    "No thanks.\n\nOn Tue, Nov 24, 2026 at 9:02 AM Pipeline Whisperer <hi@pw.dev>\nwrote:\n> Let's book some time!",
    "objection",
  ],
  ["Le mar. 24 nov. 2026, Sam a écrit :\n> Interested?", "neutral"],
];

describe("reply intent rules", () => {
  it.each(TABLE)("%j → %s", (text, intent) => {
    expect(classifyReply(text)).toBe(intent);
  });

  it("keeps what the lead wrote, including a first line that starts with 'On'", () => {
    expect(stripQuoted("On second thought, let's talk.\r\n\r\nOn Mon, Sam wrote:\r\n> hello")).toBe(
      "On second thought, let's talk.",
    );
    expect(stripQuoted("> only quoted")).toBe("");
  });
});

describe("reply intent via stackAI", () => {
  const vendor = useStackAiServer("flow-intent");
  const client = vendor.client;

  it("uses the flow's intent and confidence, sending only the lead's own words", async () => {
    vendor.reply({ out0: { intent: "objection", confidence: 0.82 } });
    const result = await createIntentClassifier({ stackai: client() }).classify(
      "Maybe later in the year.\n\nOn Tue, Sam <sam@pw.dev> wrote:\n> Worth a chat?",
      { leadId: "lead-7" },
    );
    expect(result).toEqual({ intent: "objection", classifier: "stackai", confidence: 0.82 });
    expect(vendor.runs).toEqual([
      expect.objectContaining({
        flowId: "flow-intent",
        userId: "lead-7",
        authorization: "Bearer sk-test",
        input: { text: "Maybe later in the year." },
      }),
    ]);
  });

  it("accepts an answer without confidence, in a markdown fence at the top level", async () => {
    vendor.reply({ out0: '```json\n{"intent":"positive"}\n```', topLevel: true });
    expect(
      await createIntentClassifier({ stackai: client() }).classify("Could work, tell me more"),
    ).toEqual({ intent: "positive", classifier: "stackai" });
  });

  it("retries a 429 and uses the answer", async () => {
    vendor.reply({ status: 429 }, { out0: { intent: "out_of_office" } });
    const result = await createIntentClassifier({ stackai: client() }).classify("Back on the 5th");
    expect(result).toMatchObject({ intent: "out_of_office", classifier: "stackai" });
    expect(vendor.runs).toHaveLength(2);
  });

  it.each([
    ["500 twice", [{ status: 500 }, { status: 500 }], "http_500"],
    ["a timeout", [{ delayMs: 2_000 }], "timeout"],
    ["an intent outside the enum", [{ out0: { intent: "maybe" } }], "invalid_output"],
    ["a confidence above 1", [{ out0: { intent: "positive", confidence: 1.7 } }], "invalid_output"],
    ["prose instead of JSON", [{ out0: "The lead seems keen!" }], "invalid_output"],
    ["a failed run", [{ state: "FAILED", out0: {} }], "flow_not_completed"],
  ])("falls back to the rules on %s, with the reason", async (_name, replies, reason) => {
    vendor.reply(...replies);
    const started = Date.now();
    const result = await createIntentClassifier({ stackai: client() }).classify(
      "Sounds good, let's talk Thursday.",
    );
    expect(result).toEqual({ intent: "positive", classifier: "rules", fallbackReason: reason });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("fails fast while the breaker is open", async () => {
    const c = client({ maxRetries: 0, breaker: { failureThreshold: 1, cooldownMs: 60_000 } });
    const classifier = createIntentClassifier({ stackai: c });
    vendor.reply({ status: 500 });
    await classifier.classify("Tell me more");
    expect(await classifier.classify("Tell me more")).toEqual({
      intent: "positive",
      classifier: "rules",
      fallbackReason: "circuit_open",
    });
    expect(vendor.runs).toHaveLength(1);
  });

  it("honours an opt-out the rules see, and skips empty replies, without asking the flow", async () => {
    const classifier = createIntentClassifier({ stackai: client() });
    expect(await classifier.classify("Interesting, but please unsubscribe me.")).toEqual({
      intent: "unsubscribe_request",
      classifier: "rules",
      fallbackReason: "opt_out_rule",
    });
    expect(await classifier.classify("> quoted only")).toEqual({
      intent: "neutral",
      classifier: "rules",
      fallbackReason: "empty_reply",
    });
    expect(await classifier.classify(undefined)).toMatchObject({ intent: "neutral" });
    expect(vendor.runs).toHaveLength(0);
  });

  it("uses the rules when stackAI is not configured", async () => {
    expect(await createIntentClassifier().classify("I'm on leave until Monday")).toEqual({
      intent: "out_of_office",
      classifier: "rules",
    });
  });

  it("never logs the reply text, even when the vendor echoes it back", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      service: "test",
      level: "debug",
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const secret = "My direct line is 555-0199, call me about the Q3 budget";
    vendor.reply({ status: 422, body: JSON.stringify({ detail: `bad input: ${secret}` }) });
    const result = await createIntentClassifier({ stackai: client(), logger }).classify(secret, {
      leadId: "lead-9",
    });
    expect(result).toMatchObject({ classifier: "rules", fallbackReason: "http_422" });
    expect(lines.join("")).toContain("lead-9");
    expect(lines.join("")).not.toContain("555-0199");
  });
});
