/**
 * `pnpm seed`'s command line, checked in full before anything is read or sent: which of the
 * three things to do (replay files, simulate leads, post one outcome) and with what, or a
 * UsageError naming the option and why (the house CLI contract, @pw/simulator/command-line).
 */
import { OutcomeKind } from "@pw/events";
import {
  choiceArg,
  integerArg,
  numberArg,
  parseCommandLine,
  pathArg,
  SEED_RANGE,
  UsageError,
} from "@pw/simulator/command-line";
import { DEFAULT_CONCURRENCY } from "./seed-files.ts";
import { checkSecret, checkUrl, DEFAULT_INGEST_URL } from "./target.ts";

export const USAGE = `usage: pnpm seed [--files PATH]... [--simulate N [--rate R]] [--outcome KIND --lead ID] [--url URL] [--secret whsec_…]

Posts signed webhooks (Standard Webhooks) to ingest. One of three things:
  (default)              replay the sample events: data/sample-events/*.ndjson
  --files PATH           an NDJSON file or a directory of them (format: apps/seed/README.md);
                         repeatable. A second replay is acknowledged as duplicates.
    --leads N            only the first N leads of the files, 1 to 1000000 (default: all)
  --simulate N           N new leads generated on the fly, 1 to 1000000
    --rate R             leads per second, in (0, 10000] (default 5)
    --seed S             0 to 4294967295: the same seed posts the same leads (default: random)
    --world FILE         draw leads from this world file's lead model (default, or when the
                         world has none: a built-in mix)
  --outcome KIND         one outcome webhook: ${OutcomeKind.options.join(", ")}
    --lead ID            the lead it is about (lf_<contact id>)
    --request ID         the outreach request it answers (default: the lead's latest)
    --text TEXT          the reply's text (with --outcome replied)

Where to (each falls back in this order):
  --url URL              ingest's base URL; INGEST_URL; ingestUrl in .data/demo.json; ${DEFAULT_INGEST_URL}
  --secret whsec_…       the webhook secret; WEBHOOK_SECRET; webhookSecret in .data/demo.json

  --concurrency N        leads posted at once, 1 to 256 (default ${DEFAULT_CONCURRENCY})
  --deadline S           seconds to keep retrying transient failures (429, 503, refused,
                         reset, timeouts), for the whole run, in (0, 86400] (default 120)
  --json                 the summary as JSON on stdout

Exit status: 0 everything accepted or already there; 1 something rejected or not delivered
(the summary says what and why); 2 a bad argument or input file; 130 interrupted.`;

/** What every mode shares: where to, how many at once, how long to keep trying. */
export type Common = {
  url?: string;
  secret?: string;
  concurrency: number;
  deadlineMs?: number;
  json: boolean;
};

export type SeedCommand =
  | { mode: "help" }
  | ({ mode: "files"; files: string[]; leads?: number } & Common)
  | ({ mode: "simulate"; count: number; rate: number; seed?: number; world?: string } & Common)
  | ({
      mode: "outcome";
      kind: OutcomeKind;
      lead: string;
      request?: string;
      text?: string;
    } & Common);

const OPTIONS = {
  files: { type: "string", multiple: true },
  leads: { type: "string" },
  simulate: { type: "string" },
  rate: { type: "string" },
  seed: { type: "string" },
  world: { type: "string" },
  outcome: { type: "string" },
  lead: { type: "string" },
  request: { type: "string" },
  text: { type: "string" },
  url: { type: "string" },
  secret: { type: "string" },
  concurrency: { type: "string" },
  deadline: { type: "string" },
  json: { type: "boolean" },
} as const;

/** A flag that only means something with another one. */
function onlyWith(values: Record<string, unknown>, flags: string[], mode: string) {
  for (const f of flags)
    if (values[f] !== undefined) throw new UsageError(`--${f}: only with ${mode}`);
}

/** `argv` (without node and the script) → the command; `defaultFiles` when --files is not given. */
export function parseSeedCommand(argv: readonly string[], defaultFiles: string): SeedCommand {
  const { help, values, positionals } = parseCommandLine(argv, OPTIONS);
  if (help) return { mode: "help" };
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}" (files go after --files)`);
  const outcomeMode = values.outcome !== undefined;
  const simulateMode = values.simulate !== undefined;
  if (outcomeMode)
    onlyWith(
      values,
      ["files", "leads", "simulate", "rate", "seed", "world", "concurrency"],
      "replays and --simulate, not --outcome",
    );
  else onlyWith(values, ["lead", "request", "text"], "--outcome");
  if (simulateMode && values.files)
    throw new UsageError("--files: not with --simulate (one or the other)");
  if (simulateMode && values.leads !== undefined)
    throw new UsageError("--leads: not with --simulate (--simulate N says how many)");
  if (!simulateMode) onlyWith(values, ["rate", "seed", "world"], "--simulate");

  const common: Common = {
    ...(values.url !== undefined ? { url: checkUrl(values.url, "--url") } : {}),
    ...(values.secret !== undefined ? { secret: checkSecret(values.secret, "--secret") } : {}),
    concurrency:
      values.concurrency === undefined
        ? DEFAULT_CONCURRENCY
        : integerArg("--concurrency", values.concurrency, { min: 1, max: 256 }),
    ...(values.deadline !== undefined
      ? {
          deadlineMs: Math.round(
            numberArg("--deadline", values.deadline, { min: 0, minExclusive: true, max: 86_400 }) *
              1000,
          ),
        }
      : {}),
    json: values.json === true,
  };
  if (outcomeMode) {
    const kind = choiceArg("--outcome", values.outcome!, OutcomeKind.options);
    if (values.lead === undefined) throw new UsageError("--outcome: needs --lead <lead id>");
    if (values.text !== undefined && kind !== "replied")
      throw new UsageError(`--text: the reply's text goes with --outcome replied, not ${kind}`);
    return {
      mode: "outcome",
      kind,
      lead: values.lead,
      ...(values.request !== undefined ? { request: values.request } : {}),
      ...(values.text !== undefined ? { text: values.text } : {}),
      ...common,
    };
  }
  if (simulateMode)
    return {
      mode: "simulate",
      count: integerArg("--simulate", values.simulate!, { min: 1, max: 1_000_000 }),
      rate:
        values.rate === undefined
          ? 5
          : numberArg("--rate", values.rate, { min: 0, minExclusive: true, max: 10_000 }),
      ...(values.seed !== undefined ? { seed: integerArg("--seed", values.seed, SEED_RANGE) } : {}),
      ...(values.world !== undefined ? { world: pathArg("--world", values.world) } : {}),
      ...common,
    };
  return {
    mode: "files",
    files: (values.files ?? [defaultFiles]).map((f) => pathArg("--files", f)),
    ...(values.leads !== undefined
      ? { leads: integerArg("--leads", values.leads, { min: 1, max: 1_000_000 }) }
      : {}),
    ...common,
  };
}
