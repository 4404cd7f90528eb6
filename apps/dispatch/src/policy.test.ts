import { describe, expect, it } from "vitest";
import {
  dayBucket,
  hourBucket,
  localTime,
  nextAllowed,
  recipientDomain,
  zoneOf,
} from "./policy.ts";

const nights = { quietHours: { startMin: 20 * 60, endMin: 8 * 60 }, quietDays: [] as number[] };

describe("quiet hours in the lead's time zone", () => {
  it("lets a send inside working hours go at once", () => {
    const at = new Date("2026-12-01T15:00:00Z"); // 10:00 in New York
    expect(nextAllowed(at, "America/New_York", nights)).toEqual(at);
  });

  it("defers a send due at night to 08:00 the next morning, local time", () => {
    const at = new Date("2026-12-02T03:30:45Z"); // 22:30:45 in New York (UTC-5)
    expect(nextAllowed(at, "America/New_York", nights).toISOString()).toBe(
      "2026-12-02T13:00:00.000Z",
    );
  });

  it("defers a send due before dawn to the same morning", () => {
    const at = new Date("2026-12-01T10:00:00Z"); // 05:00 in New York
    expect(nextAllowed(at, "America/New_York", nights).toISOString()).toBe(
      "2026-12-01T13:00:00.000Z",
    );
  });

  it("plans zones either side of the date line on their own calendar", () => {
    const at = new Date("2026-12-01T09:00:00Z");
    // Kiritimati (UTC+14): 23:00 on Dec 1 → 08:00 Dec 2 local = 18:00Z Dec 1.
    expect(nextAllowed(at, "Pacific/Kiritimati", nights).toISOString()).toBe(
      "2026-12-01T18:00:00.000Z",
    );
    // Pago Pago (UTC-11): 22:00 on Nov 30 → 08:00 Dec 1 local = 19:00Z Dec 1.
    expect(nextAllowed(at, "Pacific/Pago_Pago", nights).toISOString()).toBe(
      "2026-12-01T19:00:00.000Z",
    );
    // London at 09:00 is working hours.
    expect(nextAllowed(at, "Europe/London", nights)).toEqual(at);
  });

  it("lands on 08:00 local across a daylight-saving change in the night", () => {
    // Berlin springs forward on 2027-03-28 at 02:00 (UTC+1 → UTC+2).
    const at = new Date("2027-03-27T22:00:00Z"); // 23:00 CET
    const next = nextAllowed(at, "Europe/Berlin", nights);
    expect(next.toISOString()).toBe("2027-03-28T06:00:00.000Z"); // 08:00 CEST
    expect(localTime(next, "Europe/Berlin").minute).toBe(8 * 60);
    // And falls back on 2027-10-31 at 03:00 (UTC+2 → UTC+1).
    const autumn = nextAllowed(new Date("2027-10-30T21:00:00Z"), "Europe/Berlin", nights);
    expect(autumn.toISOString()).toBe("2027-10-31T07:00:00.000Z"); // 08:00 CET
  });

  it("handles quiet hours that do not wrap midnight", () => {
    const lunch = { quietHours: { startMin: 12 * 60, endMin: 13 * 60 }, quietDays: [] };
    const at = new Date("2026-12-01T12:15:00Z");
    expect(nextAllowed(at, "UTC", lunch).toISOString()).toBe("2026-12-01T13:00:00.000Z");
    expect(nextAllowed(new Date("2026-12-01T13:00:00Z"), "UTC", lunch).toISOString()).toBe(
      "2026-12-01T13:00:00.000Z",
    );
  });

  it("skips quiet days and then the morning's quiet hours", () => {
    const weekends = { ...nights, quietDays: [0, 6] };
    // Friday 2026-12-04 21:00 in Tokyo → Monday 08:00 Tokyo.
    const at = new Date("2026-12-04T12:00:00Z");
    expect(nextAllowed(at, "Asia/Tokyo", weekends).toISOString()).toBe("2026-12-06T23:00:00.000Z");
  });

  it("never defers with quiet hours off", () => {
    const at = new Date("2026-12-02T03:30:00Z");
    expect(nextAllowed(at, "UTC", { quietHours: undefined, quietDays: [] })).toEqual(at);
  });
});

describe("buckets, domains and zones", () => {
  it("counts caps per UTC hour and day", () => {
    const at = new Date("2026-12-01T14:59:59.999Z");
    expect(hourBucket(at)).toEqual({
      bucket: "2026-12-01T14",
      next: new Date("2026-12-01T15:00:00Z"),
    });
    expect(dayBucket(at)).toEqual({ bucket: "2026-12-01", next: new Date("2026-12-02T00:00:00Z") });
  });

  it("takes the lower-cased domain of e-mail recipients only", () => {
    expect(recipientDomain("email", "Jane@ACME.example")).toBe("acme.example");
    expect(recipientDomain("slack", "#sales")).toBeUndefined();
    expect(recipientDomain("email", "not-an-address")).toBeUndefined();
  });

  it("falls back to the default zone for an unknown one", () => {
    expect(zoneOf("Mars/Olympus_Mons", "Europe/Paris")).toBe("Europe/Paris");
    expect(zoneOf(null, "UTC")).toBe("UTC");
    expect(zoneOf("Asia/Kolkata", "UTC")).toBe("Asia/Kolkata");
  });
});
