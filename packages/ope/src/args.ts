/**
 * `pnpm ope` arguments: exactly one log source, one or more candidates. A bad
 * argument is a `UsageError` naming the flag and why (the CLI exits 2 on it).
 */
import {
  choiceArg,
  integerArg,
  parseCommandLine,
  pathArg,
  SEED_RANGE,
  UsageError,
} from "@pw/simulator/command-line";
import { type Candidate, CandidateSpecError, parseCandidate } from "./candidates.ts";

export { UsageError };

export const USAGE = `usage: pnpm ope <source> --candidate <spec> [--candidate <spec> ...] [--json]

sources (exactly one):
  --logs <file.jsonl>        one settled decision per line (experiments.decisions columns + reward)
  --db                       experiments.decisions on PostgreSQL at DATABASE_URL
  --pglite <dir>             experiments.decisions in an embedded PGlite directory
  --simulate <world.json>    logs generated on a simulator world; prints each candidate's true value
    --leads N                  decisions to simulate (default 20000)
    --seed N                   world and logger seed (default 1)
    --logging thompson|uniform the logging policy (default thompson, the engine's)
    --save-logs <file.jsonl>   also write the simulated log (readable by --logs)

candidates:
  thompson[:floor=0.05,prior=2/60,burnIn=50,sharpen=2]   the engine's policy with options changed
  threshold:<p>[,floor=…,prior=…,burnIn=…,sharpen=…]     drop arms with P(best) < p, Thompson on the rest
  uniform                                                every active variant alike
  fixed:<variantId>                                      always that variant when it is active

options:
  --draws N     Monte Carlo draws per P(best) of a candidate (default 2000)
  --json        one JSON summary on stdout instead of the table`;

export type Source =
  | { kind: "logs"; file: string }
  | { kind: "db" }
  | { kind: "pglite"; dir: string }
  | {
      kind: "simulate";
      world: string;
      leads: number;
      seed: number;
      logging: "thompson" | "uniform";
      saveLogs?: string;
    };

export type OpeArgs = {
  source: Source;
  candidates: { spec: string; candidate: Candidate }[];
  draws: number;
  seed: number;
  json: boolean;
};

const OPTIONS = {
  logs: { type: "string" },
  db: { type: "boolean" },
  pglite: { type: "string" },
  simulate: { type: "string" },
  leads: { type: "string" },
  seed: { type: "string" },
  logging: { type: "string" },
  "save-logs": { type: "string" },
  candidate: { type: "string", multiple: true },
  draws: { type: "string" },
  json: { type: "boolean" },
} as const;

/** The parsed arguments, or "help" for --help. */
export function parseOpeArgs(argv: string[]): OpeArgs | "help" {
  const { help, values: v, positionals } = parseCommandLine(argv, OPTIONS);
  if (help) return "help";
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}": give the source as a flag`);
  const sources = (["logs", "db", "pglite", "simulate"] as const).filter((k) => v[k] !== undefined);
  if (sources.length !== 1)
    throw new UsageError(
      sources.length === 0
        ? "no log source: give one of --logs <file>, --db, --pglite <dir>, --simulate <world.json>"
        : `--${sources.join(", --")}: give exactly one log source`,
    );
  for (const k of ["logs", "pglite", "simulate", "save-logs"] as const)
    if (v[k] !== undefined) pathArg(`--${k}`, v[k]);
  const simOnly = (["leads", "logging", "save-logs"] as const).find((k) => v[k] !== undefined);
  if (simOnly && !v.simulate) throw new UsageError(`--${simOnly}: only applies with --simulate`);
  const seed = v.seed === undefined ? 1 : integerArg("--seed", v.seed, SEED_RANGE);
  let source: Source;
  if (v.logs !== undefined) source = { kind: "logs", file: v.logs };
  else if (v.db) source = { kind: "db" };
  else if (v.pglite !== undefined) source = { kind: "pglite", dir: v.pglite };
  else {
    const logging = choiceArg("--logging", v.logging ?? "thompson", ["thompson", "uniform"]);
    source = {
      kind: "simulate",
      world: v.simulate!,
      leads: v.leads === undefined ? 20_000 : integerArg("--leads", v.leads, { min: 1 }),
      seed,
      logging,
      ...(v["save-logs"] ? { saveLogs: v["save-logs"] } : {}),
    };
  }
  const specs = v.candidate ?? [];
  if (specs.length === 0)
    throw new UsageError("--candidate: give at least one, e.g. --candidate thompson:floor=0.05");
  const candidates = specs.map((spec) => {
    try {
      return { spec, candidate: parseCandidate(spec) };
    } catch (e) {
      if (e instanceof CandidateSpecError) throw new UsageError(e.message);
      throw e;
    }
  });
  return {
    source,
    candidates,
    draws: v.draws === undefined ? 2_000 : integerArg("--draws", v.draws, { min: 100 }),
    seed,
    json: v.json ?? false,
  };
}
