// `pnpm demo` (bash scripts/demo.sh on a fresh clone): the whole loop in one process and
// the dashboard, until Ctrl-C. See demo.ts and docs/demo.md.
import { resolve } from "node:path";
import {
  InputError,
  integerArg,
  numberArg,
  parseCommandLine,
  pathArg,
  printUsage,
  runCommand,
  UsageError,
} from "@pw/simulator/command-line";
import { banner, DEFAULT_WORLD, DEMO_DEFAULTS, DemoError, startDemo } from "./demo.ts";
import { watchProgress } from "./demo-progress.ts";

const USAGE = `usage: pnpm demo [--reset] [--world <file> | --no-recipients] [--clock-scale N]
                 [--dashboard-port N] [--gateway-port N] [--ingest-port N]

Every service in one process (PGlite under .data/, the in-process bus), the recipients
of a world file answering on the demo clock, and the dashboard. Runs until Ctrl-C; the
data stays for the next start.

  --reset             start clean (deletes .data/: the database, secrets, the log)
  --world <file>      how the recipients answer (default data/worlds/demo.json)
  --no-recipients     nobody answers; trigger outcomes by hand (pnpm seed --outcome …)
  --clock-scale N     the demo clock's speed, 1–100000 (default 720: an hour in 5 s)
  --dashboard-port N  default 3000; --gateway-port default 4000; --ingest-port default 4100`;

const OPTIONS = {
  reset: { type: "boolean" },
  world: { type: "string" },
  "no-recipients": { type: "boolean" },
  "clock-scale": { type: "string" },
  "dashboard-port": { type: "string" },
  "gateway-port": { type: "string" },
  "ingest-port": { type: "string" },
} as const;

await runCommand("demo", USAGE, async () => {
  const cli = parseCommandLine(process.argv.slice(2), OPTIONS);
  if (cli.help) return printUsage(USAGE);
  if (cli.positionals.length > 0)
    throw new UsageError(`unexpected argument "${cli.positionals[0]}"`);
  const v = cli.values;
  if (v.world && v["no-recipients"])
    throw new UsageError("--world and --no-recipients: choose one");
  const port = (name: string, text: string | undefined, fallback: number) =>
    text === undefined ? fallback : integerArg(`--${name}`, text, { min: 1, max: 65_535 });
  const world = v["no-recipients"]
    ? undefined
    : v.world
      ? resolve(process.env.INIT_CWD ?? process.cwd(), pathArg("--world", v.world))
      : DEFAULT_WORLD;
  const clockScale =
    v["clock-scale"] === undefined
      ? DEMO_DEFAULTS.clockScale
      : numberArg("--clock-scale", v["clock-scale"], { min: 1, max: 100_000 });
  let demo: Awaited<ReturnType<typeof startDemo>>;
  try {
    demo = await startDemo({
      reset: v.reset === true,
      world,
      clockScale,
      ports: {
        dashboard: port("dashboard-port", v["dashboard-port"], DEMO_DEFAULTS.ports.dashboard),
        gateway: port("gateway-port", v["gateway-port"], DEMO_DEFAULTS.ports.gateway),
        ingest: port("ingest-port", v["ingest-port"], DEMO_DEFAULTS.ports.ingest),
      },
      env: process.env,
    });
  } catch (error) {
    if (error instanceof DemoError) throw new InputError(error.message);
    throw error;
  }
  process.stdout.write(banner(demo, { world, clockScale }));
  const progress = watchProgress(demo, (line) => process.stdout.write(`${line}\n`));
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      process.stdout.write(`\n… ${signal}: stopping (the data stays in .data/)\n`);
      done();
    };
    process.once("SIGINT", () => stop("Ctrl-C"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await progress.stop();
  await demo.stop();
  process.stdout.write("stopped.\n");
  // Everything was closed; should a forgotten handle still hold the event loop, the
  // operator's Ctrl-C still ends the process (unref'd: a clean exit does not wait for it).
  setTimeout(() => {
    process.stderr.write("demo: something still held the process after the stop; exiting\n");
    process.exit(0);
  }, 5_000).unref();
  return 0;
});
