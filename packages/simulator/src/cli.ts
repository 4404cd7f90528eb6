// `pnpm sim <world.json> [leads] [--seed N] [--pooled-prior 50] [--drift-discount 0.95]` —
// runs the engine's policy (the @pw/bandit defaults, see `recommended`) and the baselines
// on a world file and prints one JSON summary; progress goes to stderr.
import { parseArgs } from "node:util";
import { compare, recommended } from "./simulate.ts";
import { readWorldFile } from "./world.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: "1" },
    "pooled-prior": { type: "string" },
    "drift-discount": { type: "string" },
  },
});
const [file, leadsArg] = positionals;
if (!file) {
  console.error(
    "usage: pnpm sim <world.json> [leads] [--seed N] [--pooled-prior STRENGTH] [--drift-discount PER_BATCH]",
  );
  process.exit(2);
}
const world = await readWorldFile(file).catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
const o = recommended(world, Number(leadsArg ?? 50_000));
if (values["pooled-prior"] !== undefined)
  o.pooledPrior = { strength: Number(values["pooled-prior"]), pool: "variant" };
if (values["drift-discount"] !== undefined) o.discount = Number(values["drift-discount"]);
const started = performance.now();
const seconds = () => Math.round((performance.now() - started) / 100) / 10;
// Progress only when a run is slow enough to wonder (50k leads take well under a second).
const summary = compare(world, { ...o, seed: Number(values.seed) }, (policy) => {
  if (seconds() > 2) console.error(`${seconds()}s: ${policy}…`);
});
console.log(
  JSON.stringify(
    {
      ...summary,
      settings: {
        policy: o.policy,
        suppression: o.suppression,
        pooledPrior: o.pooledPrior,
        discountPerBatch: o.discount,
      },
      seconds: seconds(),
    },
    null,
    2,
  ),
);
