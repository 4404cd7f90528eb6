// `pnpm ope <source> --candidate <spec> …` — off-policy evaluation of candidate
// policies on logged decisions (see README). Exit 2 on a bad argument or input, 1 on a
// failure while loading or evaluating.
import { access, stat, writeFile } from "node:fs/promises";
import { readWorldFile } from "@pw/simulator";
import { InputError, printUsage, runCommand } from "@pw/simulator/command-line";
import { type OpeArgs, parseOpeArgs, type Source, USAGE, UsageError } from "./args.ts";
import { CandidateSpecError } from "./candidates.ts";
import { readDecisionsFromDb } from "./db-source.ts";
import { emptyLog, type LoadedLog, readJsonl, toJsonl } from "./decision-log.ts";
import { evaluate } from "./evaluate.ts";
import { formatTable, summarize } from "./report.ts";
import { defaultSimOptions, simulateLogs } from "./simulate.ts";

const started = performance.now();

/** Progress on stderr, only once a run has taken more than a couple of seconds. */
function progress(): (message: string) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  return (message) => {
    const now = performance.now();
    if (now - started < 2_000 || now - last < (tty ? 250 : 5_000)) return;
    last = now;
    const elapsed = ((now - started) / 1000).toFixed(0);
    process.stderr.write(tty ? `\r\x1b[2K${message} (${elapsed}s)` : `${message} (${elapsed}s)\n`);
  };
}

const endProgress = () => {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[2K");
};

async function load(source: Source, tick: (m: string) => void): Promise<LoadedLog> {
  switch (source.kind) {
    case "logs":
      await access(source.file).catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--logs: cannot read ${source.file} (${e.code})`);
      });
      return readJsonl(source.file);
    case "db":
    case "pglite": {
      const url = process.env.DATABASE_URL;
      if (source.kind === "db" && !url)
        throw new UsageError("--db: DATABASE_URL is not set (or use --pglite <dir>)");
      if (source.kind === "pglite") {
        const isDir = await stat(source.dir).then(
          (s) => s.isDirectory(),
          () => false,
        );
        if (!isDir) throw new UsageError(`--pglite: ${source.dir} is not a directory`);
      }
      // Loaded only for a database source: the drivers are slow to import.
      const { createDb } = await import("@pw/db");
      const handle = await createDb(
        source.kind === "db" ? { driver: "pg", url: url! } : { driver: "pglite", dir: source.dir },
      );
      try {
        const log = await readDecisionsFromDb(handle.db);
        if (!log.hasContext)
          process.stderr.write(
            "note: experiments.decisions has no context column yet: no decision can be evaluated\n",
          );
        return log;
      } finally {
        await handle.close();
      }
    }
    case "simulate": {
      const world = await readWorldFile(source.world).catch((error: Error) => {
        // One line per problem of the file, each naming the flag that gave it.
        throw new InputError(error.message.replace(/^/gm, "--simulate: "));
      });
      const records = simulateLogs(world, {
        leads: source.leads,
        seed: source.seed,
        logging: source.logging,
        ...defaultSimOptions(),
        onProgress: (done, total) => tick(`simulating: ${done}/${total} leads`),
      });
      if (source.saveLogs)
        await writeFile(source.saveLogs, `${records.map(toJsonl).join("\n")}\n`).catch(
          (e: NodeJS.ErrnoException) => {
            throw new UsageError(`--save-logs: cannot write ${source.saveLogs} (${e.code})`);
          },
        );
      return { ...emptyLog(), records };
    }
  }
}

async function run(args: OpeArgs): Promise<void> {
  const tick = progress();
  const log = await load(args.source, tick);
  if (log.records.length === 0) {
    const skipped = Object.entries(log.skipped).filter(([, n]) => n > 0);
    throw new Error(
      `no decision to evaluate${skipped.length > 0 ? ` (skipped: ${skipped.map(([k, n]) => `${k} ${n}`).join(", ")}; e.g. ${log.examples[0]})` : ""}`,
    );
  }
  const evaluation = evaluate(log.records, args.candidates, {
    draws: args.draws,
    seed: args.seed,
    onProgress: (p) => tick(`evaluating ${p.spec}: ${p.done}/${p.total} decisions`),
  });
  endProgress();
  const summary = summarize(args.source, log, evaluation, (performance.now() - started) / 1000);
  process.stdout.write(
    args.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatTable(summary)}\n`,
  );
}

await runCommand("ope", USAGE, async () => {
  try {
    const args = parseOpeArgs(process.argv.slice(2));
    if (args === "help") return printUsage(USAGE);
    await run(args);
    return 0;
  } catch (e) {
    endProgress();
    // A candidate naming a variant the log does not have is only found while evaluating.
    if (e instanceof CandidateSpecError) throw new UsageError(e.message);
    throw e;
  }
});
