// Pure profile rules: merge by occurredAt, the signal window, the facts outreach quotes.
import { describe, expect, it } from "vitest";
import { crmEvent, signalEvent } from "../test/fixtures.ts";
import {
  applyEvent,
  facts,
  type KnownLeadEvent,
  mergeProfile,
  signalWindowStart,
  withSignal,
} from "./profile.ts";

const at = (iso: string) => new Date(iso);

describe("profile", () => {
  it("merges field by field: older news never overwrites, equal times the later delivery wins", () => {
    const stored = { title: { value: "CTO", at: "2026-01-02" } };
    expect(mergeProfile(stored, { title: "Intern", company: "Acme" }, "2026-01-01")).toEqual({
      merged: {
        title: { value: "CTO", at: "2026-01-02" },
        company: { value: "Acme", at: "2026-01-01" },
      },
      changed: true,
    });
    expect(mergeProfile(stored, { title: "CEO" }, "2026-01-02").merged.title?.value).toBe("CEO");
    expect(mergeProfile(stored, { title: "CTO", email: undefined }, "2026-01-03").changed).toBe(
      false,
    );
  });

  it("orders by the instant, not the text: offsets and fractional seconds", () => {
    // 09:00-05:00 is 14:00Z: newer than 12:00:00.500Z, though it sorts before it as text.
    const stored = { title: { value: "CTO", at: "2026-01-02T09:00:00-05:00" } };
    expect(
      mergeProfile(stored, { title: "Intern" }, "2026-01-02T12:00:00.500Z").merged.title,
    ).toEqual({ value: "CTO", at: "2026-01-02T09:00:00-05:00" });
    // …and 12:00:00.500Z is newer than 07:00:00+00:00 / 12:00:00Z, though "." sorts before "Z".
    expect(
      mergeProfile(
        { title: { value: "CTO", at: "2026-01-02T12:00:00Z" } },
        { title: "CEO" },
        "2026-01-02T12:00:00.500Z",
      ).merged.title?.value,
    ).toBe("CEO");
    expect(
      mergeProfile(
        { title: { value: "CTO", at: "2026-01-02T12:00:00.500Z" } },
        { title: "Intern" },
        "2026-01-02T12:00:00Z",
      ).merged.title?.value,
    ).toBe("CTO");
    // The same instant written two ways is equal: the later delivery wins.
    expect(
      mergeProfile(
        { title: { value: "CTO", at: "2026-01-02T14:00:00.000Z" } },
        { title: "CEO" },
        "2026-01-02T15:00:00+01:00",
      ).merged.title?.value,
    ).toBe("CEO");
    // A +14:00 offset is the earlier instant of the two.
    expect(
      mergeProfile(
        { title: { value: "CTO", at: "2026-01-02T00:30:00+14:00" } },
        { title: "CEO" },
        "2026-01-01T11:00:00Z",
      ).merged.title?.value,
    ).toBe("CEO");
  });

  it("applies a CRM change's profile, and a signal without one changes nothing", () => {
    const merged = applyEvent(
      {},
      crmEvent("l", "2026-01-01T00:00:00Z", { title: "VP" }) as KnownLeadEvent,
    );
    expect(merged).toEqual({ title: { value: "VP", at: "2026-01-01T00:00:00Z" } });
    expect(
      applyEvent(
        merged,
        signalEvent("l", "demo_requested", "2026-01-02T00:00:00Z") as KnownLeadEvent,
      ),
    ).toEqual(merged);
  });

  it("adds a signal newest first, and leaves out one from before the window", () => {
    const since = signalWindowStart(at("2026-04-01T00:00:00Z"));
    const old = { kind: "page_viewed", occurredAt: at("2026-03-20T00:00:00Z"), url: null };
    const newer = { kind: "demo_requested", occurredAt: at("2026-03-25T00:00:00Z"), url: null };
    const stale = { kind: "pricing_viewed", occurredAt: at("2025-12-01T00:00:00Z"), url: null };
    expect(withSignal([old], newer, since)).toEqual([newer, old]);
    expect(withSignal([old], stale, since)).toEqual([old]);
  });

  it("quotes the latest signal as the trigger and the title as the role", () => {
    const f = facts({ title: "VP Sales", firstName: "Ada" }, [
      { kind: "demo_requested", occurredAt: at("2026-03-25T00:00:00Z") },
    ]);
    expect(f).toMatchObject({ role: "VP Sales", firstName: "Ada", trigger: "requested a demo" });
  });
});
