// `pnpm seed:generate [--seed N] [--leads N] [--out DIR] [--check]` — writes the sample
// events (data/sample-events/*.ndjson) from their seeded generator (sample-events.ts).
// `--check` writes nothing and exits 1 when the files on disk differ from a fresh generation.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import {
  integerArg,
  parseCommandLine,
  pathArg,
  printUsage,
  runCommand,
  SEED_RANGE,
  UsageError,
} from "@pw/simulator/command-line";
import { DEFAULT_LEADS, DEFAULT_SEED, generateSampleEvents } from "./sample-events.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
export const SAMPLE_DIR = join(ROOT, "data/sample-events");

const USAGE = `usage: pnpm seed:generate [--seed N] [--leads N] [--out DIR] [--check]

  --seed N     faker's seed, 0 to 4294967295 (default ${DEFAULT_SEED}); the same seed gives the same bytes
  --leads N    leads to generate, 1 to 5000 (default ${DEFAULT_LEADS})
  --out DIR    where to write lightfield.ndjson and signals.ndjson (default data/sample-events)
  --check      write nothing; exit 1 if the files in DIR differ from a fresh generation`;

await runCommand("seed:generate", USAGE, async () => {
  const { help, values, positionals } = parseCommandLine(process.argv.slice(2), {
    seed: { type: "string" },
    leads: { type: "string" },
    out: { type: "string" },
    check: { type: "boolean" },
  });
  if (help) return printUsage(USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const seed =
    values.seed === undefined ? DEFAULT_SEED : integerArg("--seed", values.seed, SEED_RANGE);
  const leads =
    values.leads === undefined
      ? DEFAULT_LEADS
      : integerArg("--leads", values.leads, { min: 1, max: 5_000 });
  const out = values.out === undefined ? SAMPLE_DIR : resolve(pathArg("--out", values.out));
  const shown = relative(process.cwd(), out) || ".";
  const { files, stats } = generateSampleEvents({ seed, leads });
  if (values.check) {
    const stale: string[] = [];
    for (const [name, text] of Object.entries(files)) {
      const onDisk = await readFile(join(out, name), "utf8").catch(() => undefined);
      if (onDisk !== text) stale.push(name);
    }
    if (stale.length === 0) {
      process.stdout.write(
        `seed:generate: ${shown} is up to date (seed ${seed}, ${leads} leads)\n`,
      );
      return 0;
    }
    process.stderr.write(
      `seed:generate: ${stale.map((n) => join(shown, n)).join(", ")} differ from a fresh generation (seed ${seed}, ${leads} leads): run pnpm seed:generate\n`,
    );
    return 1;
  }
  await mkdir(out, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text);
  process.stdout.write(
    `seed:generate: wrote ${Object.keys(files)
      .map((n) => join(shown, n))
      .join(
        ", ",
      )}: ${stats.leads} leads, ${stats.lightfield} Lightfield events (${stats.opportunities} opportunities, ${stats.updates} title changes), ${stats.signals} signals, ${(stats.bytes / 1024).toFixed(0)} KiB (seed ${seed})\n`,
  );
  return 0;
});
