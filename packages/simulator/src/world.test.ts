// World files: a good one reads; a bad one is refused with the file and every problem named.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readWorldFile, WorldFileError } from "./world.ts";

describe("world files", () => {
  it("reads a shipped world and names every problem of a bad one", async () => {
    const good = await readWorldFile(
      join(import.meta.dirname, "../../../data/worlds/six-segments.json"),
    );
    expect(good.segments).toHaveLength(6);
    const dir = await mkdtemp(join(tmpdir(), "world-"));
    const bad = join(dir, "bad.json");
    await writeFile(
      bad,
      JSON.stringify({
        name: "x",
        variants: ["a", "b"],
        segments: [{ name: "s", share: 1, rates: { a: 0.1 } }],
      }),
    );
    await expect(readWorldFile(bad)).rejects.toThrow(
      `${bad}: segments.0.rates.b: missing rate for variant b`,
    );
    await writeFile(bad, "{ nope");
    await expect(readWorldFile(bad)).rejects.toThrow(WorldFileError);
    await expect(readWorldFile(join(dir, "missing.json"))).rejects.toThrow(
      /cannot read \(ENOENT\)/,
    );
  });
});
