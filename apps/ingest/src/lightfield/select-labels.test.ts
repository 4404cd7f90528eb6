// The definitions cache on the webhook hot path: one Lightfield request per type however
// many webhooks arrive at once, and none per webhook for an option id it never learns.
import type { FieldDefinitions } from "@pw/lightfield";
import { describe, expect, it } from "vitest";
import { createSelectLabelCache } from "./select-labels.ts";

const DEFS: FieldDefinitions = {
  seniority: {
    valueType: "SINGLE_SELECT",
    typeConfiguration: { options: [{ id: "opt_exec", label: "Executive" }] },
  },
};
const record = (option: string) => ({
  fields: { seniority: { valueType: "SINGLE_SELECT", value: option } },
});

function setup(fail = false) {
  let clock = 0;
  const calls: string[] = [];
  const cache = createSelectLabelCache(
    {
      async definitions(type) {
        calls.push(type);
        await new Promise((r) => setTimeout(r, 5));
        if (fail) throw new Error("Lightfield down");
        return DEFS;
      },
    },
    { refreshMs: 1_000, now: () => clock },
  );
  const advance = (ms: number) => {
    clock += ms;
  };
  return { cache, calls, advance };
}

describe("select label cache", () => {
  it("shares one definitions fetch between concurrent webhooks", async () => {
    const { cache, calls } = setup();
    await Promise.all(
      Array.from({ length: 50 }, () => cache.ensure("contacts", [record("opt_exec")])),
    );
    expect(calls).toEqual(["contacts"]);
    expect(cache.labels("contacts", "seniority", "opt_exec")).toBe("Executive");
  });

  it("refetches for an unknown option id at most once per refresh interval", async () => {
    const { cache, calls, advance } = setup();
    await cache.ensure("contacts", [record("opt_exec")]);
    for (let i = 0; i < 20; i++) await cache.ensure("contacts", [record("opt_deleted")]);
    expect(calls).toHaveLength(1);
    advance(1_000);
    await cache.ensure("contacts", [record("opt_deleted")]);
    expect(calls).toHaveLength(2);
    // A known id never refetches.
    advance(5_000);
    await cache.ensure("contacts", [record("opt_exec")]);
    expect(calls).toHaveLength(2);
  });

  it("does not ask a Lightfield that just failed again for every webhook", async () => {
    const { cache, calls, advance } = setup(true);
    await expect(cache.ensure("contacts", [record("opt_exec")])).rejects.toThrow(/down/);
    for (let i = 0; i < 20; i++) await cache.ensure("contacts", [record("opt_exec")]);
    expect(calls).toHaveLength(1);
    expect(cache.labels("contacts", "seniority", "opt_exec")).toBeUndefined();
    advance(1_000);
    await expect(cache.ensure("contacts", [record("opt_exec")])).rejects.toThrow(/down/);
    expect(calls).toHaveLength(2);
  });
});
