// The e-mail rendering both the SMTP driver and the simulated inbox use.
import { describe, expect, it } from "vitest";
import type { DispatchMetadata } from "./contract.ts";
import { DriverError, type OutboundMessage } from "./drivers/types.ts";
import { renderEmail, renderSlack } from "./render.ts";

const sender = { from: "Acme <hi@acme.com>", messageIdDomain: "acme.com" };
const message = (
  metadata: DispatchMetadata,
  extra: Partial<OutboundMessage> = {},
): OutboundMessage => ({
  dispatchId: "d_1",
  leadId: "lead-1",
  channel: "email" as const,
  to: "ada@example.org",
  subject: "Hi",
  body: "Hello <script>alert(1)</script>",
  metadata,
  ...extra,
});
const unsubscribe = {
  url: "https://u.acme.com/unsubscribe/t1",
  mailto: "mailto:unsub@acme.com?subject=stop",
};

function refusal(fn: () => unknown): DriverError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DriverError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("renderEmail", () => {
  it("escapes the body in HTML and keeps a mailto that is already a URI", () => {
    const r = renderEmail(message({ unsubscribe }), sender);
    expect(r.html).toContain("Hello &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(r.html).not.toContain("<script>");
    expect(r.headers["List-Unsubscribe"]).toBe(
      "<https://u.acme.com/unsubscribe/t1>, <mailto:unsub@acme.com?subject=stop>",
    );
    expect(r.headers["Message-ID"]).toBe("<d_1@acme.com>");
  });

  it("without a footer: still the unsubscribe line, with the default text", () => {
    const r = renderEmail(message({ unsubscribe: { url: unsubscribe.url } }), sender);
    expect(r.text).toMatch(/\n-- \nUnsubscribe: https:\/\/u\.acme\.com\/unsubscribe\/t1$/);
    expect(r.headers["List-Unsubscribe"]).toBe("<https://u.acme.com/unsubscribe/t1>");
  });

  it("refuses for good: no unsubscribe URL, a non-https one, several recipients", () => {
    expect(refusal(() => renderEmail(message({}), sender)).transient).toBe(false);
    expect(
      refusal(() => renderEmail(message({ unsubscribe: { url: "http://u.acme.com/x" } }), sender))
        .message,
    ).toMatch(/https/);
    expect(
      refusal(() => renderEmail(message({ unsubscribe }, { to: "a@x.org, b@y.org" }), sender))
        .message,
    ).toMatch(/single e-mail address/);
  });

  it("accepts http only on loopback (the local demo's unsubscribe page)", () => {
    const r = renderEmail(
      message({ unsubscribe: { url: "http://127.0.0.1:4100/unsubscribe/t" } }),
      sender,
    );
    expect(r.headers["List-Unsubscribe"]).toBe("<http://127.0.0.1:4100/unsubscribe/t>");
  });

  it("the URL cannot break out of the header's angle brackets", () => {
    const r = renderEmail(
      message({ unsubscribe: { url: "https://u.acme.com/x>, <https://evil.test" } }),
      sender,
    );
    expect(r.headers["List-Unsubscribe"]).toBe("<https://u.acme.com/x%3E,%20%3Chttps://evil.test>");
  });
});

describe("renderSlack", () => {
  it("bold subject line and Slack's three escapes", () => {
    expect(renderSlack(message({}, { subject: "A & B", body: "<@U1> hi" })).text).toBe(
      "*A &amp; B*\n\n&lt;@U1&gt; hi",
    );
  });
});
