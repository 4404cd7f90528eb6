// `pnpm sim:scoring <world.json> [labels] [--seeds 1,2,3] [--eval N] [--every N] [--batch N] [--json]`
// — scoring (the production service) fed a world's leads and their settled sends, with
// AUC, log-loss and expected calibration error over time for the hand-set priors, the
// learned model and the truth (and stackAI when STACKAI_* configure a flow): see
// scoring-sim.ts. Progress on stderr; the table (or `--json`) on stdout.
// Exit 2 on a bad argument or world file, 1 on a failure while running.
import { cpus } from "node:os";
import { readWorldFile } from "@pw/simulator";
import {
  integerArg,
  parseCommandLine,
  printUsage,
  runCommand,
  SEED_RANGE,
  UsageError,
} from "@pw/simulator/command-line";
import {
  type Checkpoint,
  DEFAULT_SIM,
  type ScoringSimResult,
  simulateScoring,
} from "./scoring-sim.ts";

const USAGE = `usage: pnpm sim:scoring <world.json> [labels] [--seeds 1,2,3] [--eval N] [--every N] [--batch N] [--json]

  <world.json>   a world file with a lead model (packages/simulator/README.md, "Lead models")
  [labels]       labelled (contacted and settled) leads to feed, ≥ 100 (default ${DEFAULT_SIM.labels})
  --seeds LIST   comma-separated seeds, each 0 to 4294967295 (default 1,2,3)
  --eval N       held-out leads every model is scored on, ≥ 1000 (default ${DEFAULT_SIM.evalSize})
  --every N      labels between checkpoints, ≥ 100 (default ${DEFAULT_SIM.checkpointEvery})
  --batch N      leads scored, contacted and settled together, 10 to 5000 (default ${DEFAULT_SIM.batch})
  --json         print the results as JSON instead of tables

  Scoring runs with production's defaults; SCORING_REFIT_* variables change them, and
  STACKAI_* (all four) add stackAI's figures on the held-out leads.`;

function parse(argv: string[]) {
  const { help, values, positionals } = parseCommandLine(argv, {
    seeds: { type: "string" },
    eval: { type: "string" },
    every: { type: "string" },
    batch: { type: "string" },
    json: { type: "boolean" },
  });
  if (help) return "help" as const;
  const [file, labelsArg, ...extra] = positionals;
  if (!file) throw new UsageError("missing <world.json>");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const seeds = (values.seeds ?? "1,2,3")
    .split(",")
    .map((s) => integerArg("--seeds", s.trim(), SEED_RANGE));
  return {
    file,
    seeds,
    labels:
      labelsArg === undefined ? DEFAULT_SIM.labels : integerArg("labels", labelsArg, { min: 100 }),
    evalSize:
      values.eval === undefined
        ? DEFAULT_SIM.evalSize
        : integerArg("--eval", values.eval, { min: 1000 }),
    checkpointEvery:
      values.every === undefined
        ? DEFAULT_SIM.checkpointEvery
        : integerArg("--every", values.every, { min: 100 }),
    batch:
      values.batch === undefined
        ? DEFAULT_SIM.batch
        : integerArg("--batch", values.batch, { min: 10, max: 5_000 }),
    json: values.json ?? false,
  };
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "  -  ");
const f4 = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : "  -   ");

function table(r: ScoringSimResult): string {
  const lines = [
    `${r.world}, seed ${r.seed}: base rate ${(r.baseRate * 100).toFixed(2)}% on the held-out leads, ${r.seconds}s`,
    "  labels  version |  AUC priors learned truth | log-loss priors learned truth |   ECE priors learned truth",
  ];
  for (const c of r.checkpoints)
    lines.push(
      `  ${String(c.labels).padStart(6)}  ${`v${c.version}`.padStart(7)} |       ${f3(c.priors.auc)}   ${f3(c.learned.auc)} ${f3(c.truth.auc)} |          ${f4(c.priors.logLoss)}  ${f4(c.learned.logLoss)} ${f4(c.truth.logLoss)} |      ${f4(c.priors.ece)}  ${f4(c.learned.ece)} ${f4(c.truth.ece)}`,
    );
  const promoted = r.refits.filter((f) => f.outcome === "promoted").length;
  lines.push(
    `  refits: ${r.refits.length} (${promoted} promoted, ${r.refits.length - promoted} not)`,
  );
  if (r.stackai)
    lines.push(
      `  stackAI on ${r.stackai.scored} held-out leads (${r.stackai.failed} failed): AUC ${f3(r.stackai.auc)}, log-loss ${f4(r.stackai.logLoss)}, ECE ${f4(r.stackai.ece)}`,
    );
  return lines.join("\n");
}

function summary(results: ScoringSimResult[]): string {
  const last = (r: ScoringSimResult) => r.checkpoints.at(-1)!;
  const rows = results.map((r) => {
    const c = last(r);
    return `  seed ${r.seed}: after ${c.labels} labels AUC ${f3(c.learned.auc)} vs truth ${f3(c.truth.auc)} (gap ${f3(c.truth.auc - c.learned.auc)}; priors ${f3(c.priors.auc)}), ECE ${f4(c.learned.ece)} (priors ${f4(c.priors.ece)}, truth ${f4(c.truth.ece)})`;
  });
  return ["summary:", ...rows].join("\n");
}

await runCommand("sim:scoring", USAGE, async () => {
  const args = parse(process.argv.slice(2));
  if (args === "help") return printUsage(USAGE);
  const world = await readWorldFile(args.file);
  if (!world.leadModel)
    throw new UsageError(`${args.file}: the world has no lead model (\`leads\` and \`leadModel\`)`);
  process.stderr.write(
    `sim:scoring ${world.name}: ${args.labels} labels × seeds ${args.seeds.join(",")} on ${cpus().length}× ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`,
  );
  const results: ScoringSimResult[] = [];
  for (const seed of args.seeds) {
    const result = await simulateScoring(world, {
      ...args,
      seed,
      onProgress: (done, total, c?: Checkpoint) => {
        if (c)
          process.stderr.write(
            `  seed ${seed}: ${done}/${total} labels, v${c.version}, AUC ${f3(c.learned.auc)} (truth ${f3(c.truth.auc)}), ECE ${f4(c.learned.ece)}\n`,
          );
      },
    });
    results.push(result);
    if (!args.json) process.stdout.write(`${table(result)}\n\n`);
  }
  process.stdout.write(
    args.json ? `${JSON.stringify(results, null, 2)}\n` : `${summary(results)}\n`,
  );
  return 0;
});
