import { describe, expect, it } from "vitest";
import { retryAfterMs } from "./retry-after.ts";

const now = Date.parse("2026-11-24T12:00:00.000Z");

describe("retryAfterMs", () => {
  it("reads delay-seconds", () => {
    expect(retryAfterMs("0", now)).toBe(0);
    expect(retryAfterMs("7", now)).toBe(7_000);
    expect(retryAfterMs(" 1.5 ", now)).toBe(1_500);
    expect(retryAfterMs(["3", "9"], now)).toBe(3_000);
  });

  it("reads an HTTP-date relative to now, a past one as no wait", () => {
    expect(retryAfterMs("Tue, 24 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Tue, 24 Nov 2026 11:59:00 GMT", now)).toBe(0);
  });

  it("caps what a server may ask", () => {
    expect(retryAfterMs("86400", now)).toBe(60_000);
    expect(retryAfterMs("Wed, 25 Nov 2026 12:00:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("10", now, 5_000)).toBe(5_000);
  });

  it("returns undefined when absent or unreadable, so the caller backs off instead", () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs("", now)).toBeUndefined();
    expect(retryAfterMs("-5", now)).toBeUndefined();
    expect(retryAfterMs("soon", now)).toBeUndefined();
  });
});
