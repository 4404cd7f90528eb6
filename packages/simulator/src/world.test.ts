// World files: the shipped ones read; a bad one is refused with the file and the JSON path
// of every problem; the generated JSON Schema is up to date.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readWorldFile, WorldFileError, worldJsonSchema } from "./world.ts";

const root = join(import.meta.dirname, "../../..");
const dir = await mkdtemp(join(tmpdir(), "world-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

const good = {
  name: "x",
  variants: ["a", "b"],
  segments: [
    { name: "smb", share: 1, rates: { a: 0.1, b: 0.2 } },
    { name: "ent", share: 2, rates: { a: 0.3, b: 0.1 } },
  ],
  drift: { atFraction: 0.5, rates: { smb: { a: 0.3, b: 0.1 } } },
};

/** The problems readWorldFile names for a world (without the file prefix). */
async function problems(world: unknown): Promise<string[]> {
  const file = join(dir, "w.json");
  await writeFile(file, JSON.stringify(world));
  const error = await readWorldFile(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorldFileError);
  return (error as Error).message.split("\n").map((line) => line.replace(`${file}: `, ""));
}

describe("world files", () => {
  it("reads every shipped world", async () => {
    const files = await readdir(join(root, "data/worlds"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) await readWorldFile(join(root, "data/worlds", f));
    const six = await readWorldFile(join(root, "data/worlds/six-segments.json"));
    expect(six.segments).toHaveLength(6);
  });

  it("reads a good world with a drift", async () => {
    await writeFile(join(dir, "good.json"), JSON.stringify(good));
    expect(await readWorldFile(join(dir, "good.json"))).toEqual(good);
  });

  it.each([
    [
      "a rate for a variant that is not declared",
      {
        ...good,
        segments: [good.segments[0], { ...good.segments[1], rates: { a: 0.1, b: 0.1, roi: 0.2 } }],
      },
      "segments[1].rates.roi: variant 'roi' is not declared (segment 'ent'; variants: a, b)",
    ],
    [
      "a missing rate",
      { ...good, segments: [{ name: "s", share: 1, rates: { a: 0.1 } }], drift: undefined },
      "segments[0].rates.b: segment 's' has no rate for variant 'b'",
    ],
    [
      "a repeated variant",
      { ...good, variants: ["a", "b", "a"] },
      "variants[2]: variant 'a' is declared twice (also variants[0])",
    ],
    [
      "a repeated segment name",
      { ...good, segments: [good.segments[0], { ...good.segments[1], name: "smb" }] },
      "segments[1].name: segment 'smb' is declared twice (also segments[0])",
    ],
    [
      "drift naming an unknown segment",
      { ...good, drift: { atFraction: 0.5, rates: { "mid-market": { a: 0.1, b: 0.1 } } } },
      `drift.rates["mid-market"]: segment 'mid-market' is not declared (segments: smb, ent)`,
    ],
    [
      "drift naming an unknown variant",
      { ...good, drift: { atFraction: 0.5, rates: { smb: { a: 0.1, b: 0.1, c: 0.1 } } } },
      "drift.rates.smb.c: variant 'c' is not declared (segment 'smb'; variants: a, b)",
    ],
    [
      "an unknown key",
      { ...good, segments: [{ ...good.segments[0], rate: {} }, good.segments[1]] },
      "segments[0].rate: unknown key (allowed: name, share, rates, outcomes, leads)",
    ],
    [
      "an unknown top-level key",
      { ...good, seed: 3 },
      "seed: unknown key (allowed: $schema, name, variants, segments, drift, leadModel)",
    ],
    [
      "a rate above 1",
      { ...good, segments: [{ ...good.segments[0], rates: { a: 1.5, b: 0.1 } }, good.segments[1]] },
      "segments[0].rates.a: a rate is a probability: at most 1",
    ],
    [
      "a negative rate",
      { ...good, drift: { atFraction: 0.5, rates: { ent: { a: -0.1, b: 0.1 } } } },
      "drift.rates.ent.a: a rate is a probability: at least 0",
    ],
  ])("refuses %s with its JSON path", async (_, world, message) => {
    expect(await problems(world)).toEqual([message]);
  });

  it("names every problem of a file, one per line", async () => {
    expect(await problems({ ...good, variants: ["a", "b", "a"], extra: 1 })).toEqual([
      "extra: unknown key (allowed: $schema, name, variants, segments, drift, leadModel)",
      "variants[2]: variant 'a' is declared twice (also variants[0])",
    ]);
  });

  it("names a file that cannot be read or is not JSON", async () => {
    await writeFile(join(dir, "bad.json"), "{ nope");
    await expect(readWorldFile(join(dir, "bad.json"))).rejects.toThrow(/bad\.json: not valid JSON/);
    await expect(readWorldFile(join(dir, "missing.json"))).rejects.toThrow(
      /missing\.json: cannot read \(ENOENT\)/,
    );
  });

  it("docs/schemas/world.schema.json is up to date (pnpm gen:schemas)", async () => {
    const committed = JSON.parse(
      await readFile(join(root, "docs/schemas/world.schema.json"), "utf8"),
    );
    expect(committed).toEqual(worldJsonSchema());
  });
});
