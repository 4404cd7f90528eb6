// `pnpm sim <world.json> [leads] [--seed N] [--pooled-prior 50] [--drift-discount 0.95]` —
// runs the engine's policy (the @pw/bandit defaults, see `defaultOptions`) and the baselines
// on a world file and prints one JSON summary; progress goes to stderr. Exit 2 on a bad
// argument or world file (see command-line.ts).
import { DEFAULT_GUARDRAILS } from "@pw/bandit";
import {
  integerArg,
  numberArg,
  parseCommandLine,
  printUsage,
  runCommand,
  SEED_RANGE,
  UsageError,
} from "./command-line.ts";
import { compare, defaultOptions } from "./simulate.ts";
import { readWorldFile } from "./world.ts";

const USAGE = `usage: pnpm sim <world.json> [leads] [--seed N] [--pooled-prior STRENGTH] [--drift-discount FACTOR] [--leads-per-day N] [--window-days D]

  <world.json>               a world file (format: packages/simulator/README.md)
  [leads]                    leads to simulate, a whole number ≥ 1 (default 50000)
  --seed N                   world and policy seed, 0 to 4294967295 (default 1)
  --pooled-prior STRENGTH    pseudo-observations borrowed from the variant's pooled rate
                             across segments, ≥ 0; 0 turns pooling off (default: the engine's)
  --drift-discount FACTOR    extra forgetting: evidence kept per batch of 500, in (0, 1]
                             (default 1: none — change detection follows a drift, ADR 0015)
  --leads-per-day N          the clock: leads sent per simulated day, 1 to 1000000 (default 500,
                             one batch a day as in pnpm sim:engine); outcomes arrive after
                             their delays (world files v2) on this clock
  --window-days D            attribution window: a meeting counts if it comes within D days
                             of its send, 1 to 90 (default 14, the engine's)`;

await runCommand("sim", USAGE, async () => {
  const { help, values, positionals } = parseCommandLine(process.argv.slice(2), {
    seed: { type: "string" },
    "pooled-prior": { type: "string" },
    "drift-discount": { type: "string" },
    "leads-per-day": { type: "string" },
    "window-days": { type: "string" },
  });
  if (help) return printUsage(USAGE);
  const [file, leadsArg, ...extra] = positionals;
  if (!file) throw new UsageError("missing <world.json>");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const leads = leadsArg === undefined ? 50_000 : integerArg("leads", leadsArg, { min: 1 });
  const seed = values.seed === undefined ? 1 : integerArg("--seed", values.seed, SEED_RANGE);
  const pooled = values["pooled-prior"];
  const strength =
    pooled === undefined ? undefined : numberArg("--pooled-prior", pooled, { min: 0 });
  const discountArg = values["drift-discount"];
  const discount =
    discountArg === undefined
      ? undefined
      : numberArg("--drift-discount", discountArg, { min: 0, minExclusive: true, max: 1 });

  const perDay = values["leads-per-day"];
  const leadsPerDay =
    perDay === undefined ? 500 : integerArg("--leads-per-day", perDay, { min: 1, max: 1_000_000 });
  const windowArg = values["window-days"];
  const attributionDays =
    windowArg === undefined ? 14 : numberArg("--window-days", windowArg, { min: 1, max: 90 });

  const world = await readWorldFile(file);
  const o = defaultOptions(leads);
  if (strength !== undefined) o.pooledPrior = { strength, pool: "variant" };
  if (discount !== undefined) o.discount = discount;
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  // Progress only when a run is slow enough to wonder (50k leads take well under a second).
  const summary = compare(world, { ...o, seed, leadsPerDay, attributionDays }, (policy) => {
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
          leadsPerDay,
          attributionDays,
          guardrails: DEFAULT_GUARDRAILS,
        },
        seconds: seconds(),
      },
      null,
      2,
    ),
  );
});
