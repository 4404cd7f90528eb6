// The copywriter against a local server speaking the stackAI contract: a good
// rewrite is sent; every failure or unsafe rewrite sends the rendered template
// with the reason, quickly, and never throws.
import type { PersonalisationFacts } from "@pw/events";
import { useStackAiServer } from "@pw/stackai/test-server";
import { describe, expect, it } from "vitest";
import { createCopywriter, unsafeRewrite } from "./copywriter.ts";

const facts: PersonalisationFacts = {
  email: "ada@acme.io",
  firstName: "Ada",
  company: "Acme",
  industry: "SaaS",
  trigger: "viewed pricing",
  painPoint: "slow follow-up",
};
const variant = {
  variantId: "pain_point",
  angle: "pain_point",
  subjectTemplate: "{{company}} and {{painPoint}}",
  bodyTemplate:
    "Hi {{firstName}},\n\nTeams like {{company}} tell us {{painPoint}} costs them most. We fix exactly that — worth 15 minutes?",
};
const template = {
  subject: "Acme and slow follow-up",
  body: "Hi Ada,\n\nTeams like Acme tell us slow follow-up costs them most. We fix exactly that — worth 15 minutes?",
};
const rewrite = {
  subject: "Ada, faster follow-up at Acme",
  body: "Hi Ada,\n\nSaw you viewed pricing — slow follow-up is what SaaS teams like Acme tell us hurts most. Worth 15 minutes?",
};

const vendor = useStackAiServer("flow-rewrite");
const copywriter = (o: Parameters<typeof vendor.client>[0] = {}) =>
  createCopywriter({ stackai: vendor.client(o) });

describe("copywriter", () => {
  it("sends the flow's rewrite, asking with the angle, the facts and the rendered draft", async () => {
    vendor.reply({ out0: rewrite });
    const copy = await copywriter().write({ leadId: "lead-1", variant, facts });
    expect(copy).toEqual({ ...rewrite, writer: "stackai" });
    expect(vendor.runs).toHaveLength(1);
    expect(vendor.runs[0]).toMatchObject({ flowId: "flow-rewrite", userId: "lead-1" });
    const input = vendor.runs[0]!.input as Record<string, unknown>;
    expect(input).toMatchObject({ angle: "pain_point", variantId: "pain_point", draft: template });
    // The flow gets what it needs to write; the address stays with us.
    expect(input.facts).toEqual({ ...facts, email: undefined });
    expect(input.facts).not.toHaveProperty("email");
  });

  it("retries a 429 and sends the rewrite", async () => {
    vendor.reply({ status: 429 }, { out0: rewrite });
    const copy = await copywriter().write({ leadId: "lead-1", variant, facts });
    expect(copy.writer).toBe("stackai");
    expect(vendor.runs).toHaveLength(2);
  });

  it("sends the template with the reason on a 500", async () => {
    vendor.reply({ status: 500 }, { status: 500 });
    expect(await copywriter().write({ leadId: "lead-1", variant, facts })).toEqual({
      ...template,
      writer: "template",
      fallbackReason: "http_500",
    });
  });

  it("sends the template quickly on a timeout, bounded by the configured timeout", async () => {
    vendor.reply({ delayMs: 3_000, out0: rewrite });
    const started = Date.now();
    const copy = await copywriter({ timeoutMs: 200 }).write({ leadId: "lead-1", variant, facts });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(copy).toEqual({ ...template, writer: "template", fallbackReason: "timeout" });
  });

  it.each([
    ["prose instead of JSON", "Here is a great email for Ada!", "invalid_output"],
    ["an empty subject", { subject: "  ", body: rewrite.body }, "invalid_output"],
    ["a subject over 200 chars", { ...rewrite, subject: "A".repeat(201) }, "invalid_output"],
    ["a body over 5,000 chars", { ...rewrite, body: "word ".repeat(1_001) }, "invalid_output"],
    [
      "an unfilled slot",
      { ...rewrite, body: "Hi {{firstName}}, worth a chat?" },
      "unsafe_output:unfilled_slot",
    ],
    [
      "'undefined' in the copy",
      { ...rewrite, subject: "undefined, faster follow-up" },
      "unsafe_output:placeholder_text",
    ],
    [
      "an invented URL",
      { ...rewrite, body: `${rewrite.body}\n\nBook here: https://cal.example.com/pw/15min` },
      "unsafe_output:invented_url",
    ],
    [
      "an invented bare domain",
      { ...rewrite, body: `${rewrite.body} See pipeline-whisperer.io/roi.` },
      "unsafe_output:invented_url",
    ],
    [
      "an invented email address",
      { ...rewrite, body: `${rewrite.body} Or write to sales@pw.dev.` },
      "unsafe_output:invented_email",
    ],
    [
      "a subject with a line break",
      { ...rewrite, subject: "Ada\nBcc: everyone@acme.io" },
      "unsafe_output:multiline_subject",
    ],
  ])("sends the template on %s", async (_name, out0, reason) => {
    vendor.reply({ out0 });
    expect(await copywriter().write({ leadId: "lead-1", variant, facts })).toEqual({
      ...template,
      writer: "template",
      fallbackReason: reason,
    });
  });

  it("sends the template while the breaker is open, without calling the vendor", async () => {
    const writer = copywriter({
      maxRetries: 0,
      breaker: { failureThreshold: 1, cooldownMs: 60_000 },
    });
    vendor.reply({ status: 503 });
    await writer.write({ leadId: "lead-1", variant, facts });
    expect(await writer.write({ leadId: "lead-2", variant, facts })).toMatchObject({
      writer: "template",
      fallbackReason: "circuit_open",
    });
    expect(vendor.runs).toHaveLength(1);
  });

  it("sends the template when stackAI is not configured (missing facts get neutral words)", async () => {
    const copy = await createCopywriter().write({
      leadId: "lead-1",
      variant,
      facts: { company: "Acme" },
    });
    expect(copy).toEqual({
      subject: "Acme and manual follow-up",
      body: "Hi there,\n\nTeams like Acme tell us manual follow-up costs them most. We fix exactly that — worth 15 minutes?",
      writer: "template",
    });
  });
});

describe("rewrite safety checks", () => {
  const known = `${template.subject}\n${template.body}\nada@acme.io\nhttps://acme.io/pricing`;
  it.each([
    [
      "repeating the lead's own address and site",
      "Reply to ada@acme.io or see https://acme.io/pricing.",
    ],
    ["tool names that look like domains", "Works with Node.js, e.g. your CRM."],
    ["a URL at the end of a sentence", "Details at https://acme.io/pricing."],
  ])("allows %s", (_name, body) => {
    expect(unsafeRewrite({ subject: "Hi Ada", body }, known)).toBeUndefined();
  });
});

describe("rewrite safety checks on hostile output", () => {
  // The flow's answer is vendor input: checking it must not stall the event loop.
  it.each([
    ["one long word", "a".repeat(4_999)],
    ["dotted runs", "a.".repeat(2_499)],
    ["hyphenated runs", "a-".repeat(2_499)],
  ])("checks %s at the body limit in linear time", (_name, body) => {
    const started = performance.now();
    unsafeRewrite({ subject: "Hi Ada", body }, "known");
    expect(performance.now() - started).toBeLessThan(15);
  });

  it("still finds an invented address or site inside long runs", () => {
    expect(
      unsafeRewrite({ subject: "Hi", body: `${"a-".repeat(2_000)} mail eve@evil.io` }, ""),
    ).toBe("invented_email");
    expect(unsafeRewrite({ subject: "Hi", body: `${"a.".repeat(2_000)} see evil.io/x` }, "")).toBe(
      "invented_url",
    );
  });
});
