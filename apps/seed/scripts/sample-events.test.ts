// The committed sample events are exactly what their seeded generator writes (so they
// cannot drift from it), the generator is deterministic, and the files hold what the
// README promises: ~200 leads with their accounts, 1–4 signals each, every line in the
// replay format, times in the past, under 2 MB.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SeedLine } from "../src/lines.ts";
import { DEFAULT_LEADS, DEFAULT_SEED, generateSampleEvents } from "./sample-events.ts";

const SAMPLES = join(import.meta.dirname, "../../../data/sample-events");

describe("sample events", () => {
  const generated = generateSampleEvents({ seed: DEFAULT_SEED, leads: DEFAULT_LEADS });

  it("are committed exactly as the generator writes them (pnpm seed:generate)", () => {
    for (const [name, text] of Object.entries(generated.files))
      expect(
        readFileSync(join(SAMPLES, name), "utf8") === text,
        `${name} differs: run pnpm seed:generate`,
      ).toBe(true);
  });

  it("are the same bytes for the same seed, and different for another", () => {
    expect(generateSampleEvents({ seed: DEFAULT_SEED, leads: 20 }).files).toEqual(
      generateSampleEvents({ seed: DEFAULT_SEED, leads: 20 }).files,
    );
    expect(
      generateSampleEvents({ seed: DEFAULT_SEED + 1, leads: 20 }).files["signals.ndjson"],
    ).not.toBe(generateSampleEvents({ seed: DEFAULT_SEED, leads: 20 }).files["signals.ndjson"]);
  });

  it("hold every lead's contact and account, 1–4 signals each, in the replay format, under 2 MB", () => {
    const lines = Object.values(generated.files)
      .flatMap((t) => t.trim().split("\n"))
      .map((l) => SeedLine.parse(JSON.parse(l)));
    const leads = new Set(lines.map((l) => l.lead));
    expect(leads.size).toBe(DEFAULT_LEADS);
    for (const lead of leads) {
      const mine = lines.filter((l) => l.lead === lead);
      expect(mine.filter((l) => l.route.endsWith("contact.created"))).toHaveLength(1);
      expect(mine.filter((l) => l.route.endsWith("account.created"))).toHaveLength(1);
      const signals = mine.filter((l) => l.route === "/webhooks/signals").length;
      expect(signals).toBeGreaterThanOrEqual(1);
      expect(signals).toBeLessThanOrEqual(4);
    }
    expect(lines.every((l) => l.offsetMs! < 0)).toBe(true);
    expect(new Set(lines.map((l) => `${l.route.split("?")[0]} ${l.webhookId}`)).size).toBe(
      lines.length,
    );
    expect(generated.stats.bytes).toBeLessThan(2 * 1024 * 1024);
  });
});
