// `pnpm sim <world.json> [leads] [--seed N] [--drift-discount 0.98]` — runs the engine's
// policy and the baselines on a world file and prints one JSON summary.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { compare } from "./simulate.ts";
import { World } from "./world.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: "string", default: "1" }, "drift-discount": { type: "string" } },
});
const [file, leadsArg] = positionals;
if (!file) {
  console.error("usage: pnpm sim <world.json> [leads] [--seed N]");
  process.exit(2);
}
const parsed = World.safeParse(JSON.parse(await readFile(file, "utf8")));
if (!parsed.success) {
  for (const i of parsed.error.issues) console.error(`${file}: ${i.path.join(".")}: ${i.message}`);
  process.exit(2);
}
const world = parsed.data;
const drift = Boolean(world.drift);
const started = performance.now();
const summary = compare(world, {
  leads: Number(leadsArg ?? 50_000),
  seed: Number(values.seed),
  suppression: drift ? false : { minExposures: 500, threshold: 0.05, consecutiveChecks: 3 },
  discount: drift ? Number(values["drift-discount"] ?? 0.97) : 1,
});
console.log(
  JSON.stringify(
    { ...summary, seconds: Math.round((performance.now() - started) / 100) / 10 },
    null,
    2,
  ),
);
