import { describe, expect, it } from "vitest";
import { EMAIL_MASK, isPersonalKey, REDACTED, scrub, scrubEvent } from "./scrub.ts";

describe("the scrubber", () => {
  it("masks addresses in any string and redacts personal keys at any depth, keeping ids", () => {
    const out = scrub({
      message: "send to ada.lovelace@example.co.uk failed (lead lf_42)",
      attributes: {
        "lead.id": "lf_42",
        "lead.email": "ada@example.com",
        segment: "exec-mid",
        score: 4.7,
        nested: [{ firstName: "Ada", last_name: "Lovelace", replyText: "yes please" }],
        url: "https://x.example/u?to=bob%40example.com&e=bob@example.com",
      },
    });
    expect(out).toEqual({
      message: `send to ${EMAIL_MASK} failed (lead lf_42)`,
      attributes: {
        "lead.id": "lf_42",
        "lead.email": REDACTED,
        segment: "exec-mid",
        score: 4.7,
        nested: [{ firstName: REDACTED, last_name: REDACTED, replyText: REDACTED }],
        url: `https://x.example/u?to=bob%40example.com&e=${EMAIL_MASK}`,
      },
    });
    expect(JSON.stringify(out)).not.toMatch(/Ada|Lovelace|yes please|@example\.com/);
  });

  it("knows personal keys in every spelling and leaves the telemetry's own alone", () => {
    for (const k of [
      "email",
      "Emails",
      "lead.email",
      "firstName",
      "FULL_NAME",
      "phone",
      "reply_text",
      "body",
      "user.ip_address",
    ])
      expect(isPersonalKey(k), k).toBe(true);
    for (const k of ["lead.id", "name", "segment", "variant", "subject", "score", "event.id", "op"])
      expect(isPersonalKey(k), k).toBe(false);
  });

  it("keeps only the user's id on an error event, and survives cycles", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const event = scrubEvent({
      user: { id: "lf_7", email: "x@y.io", ip_address: "10.0.0.1" },
      extra: { cyclic },
      exception: { values: [{ value: "bounce for x@y.io" }] },
    });
    expect(event.user).toEqual({ id: "lf_7" });
    expect(event.exception.values[0]!.value).toBe(`bounce for ${EMAIL_MASK}`);
    expect((event.extra.cyclic as Record<string, unknown>).self).toBe("[circular]");
  });
});
