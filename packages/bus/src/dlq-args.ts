/**
 * `pnpm dlq` arguments. A bad argument is a `UsageError` naming the flag and why
 * (the CLI exits 2 on it). Apart from the CLI so it can be tested without a broker.
 */
import { parseArgs } from "node:util";
import type { DlqSelector } from "./dlq.ts";

export const USAGE = `usage: pnpm dlq <command> <topic> [selector] [options]

commands:
  depth [topic ...]                  messages waiting per DLQ (every DLQ when no topic is named)
  list <topic>                       parked messages: where they failed, why, when, attempts
  redrive <topic> <selector>         republish to <topic> (same key, value, original headers)
  drop <topic> <selector> --note "…" move to <topic>.dlq.dropped with the note, no redrive

selectors (exactly one, for redrive and drop):
  --all                              every parked message
  --offset N [--partition P]         the message from original offset N (of partition P)
  --event-id ID                      the message whose event id is ID
  --reason REGEX                     every message whose dlq-error (or dlq-reason, e.g.
                                     attempts-exhausted) matches REGEX

options:
  --json                             JSON on stdout instead of a table

<topic> is the original topic (lead.events.v1) or its DLQ (lead.events.v1.dlq).
Environment, as for the services: KAFKA_BROKERS (required), KAFKA_TOPIC_PREFIX, KAFKA_CLIENT_ID.`;

export class UsageError extends Error {
  override name = "UsageError";
}

export type DlqArgs =
  | { command: "help" }
  | { command: "depth"; topics: string[]; json: boolean }
  | { command: "list"; topic: string; json: boolean }
  | { command: "redrive"; topic: string; which: DlqSelector; json: boolean }
  | { command: "drop"; topic: string; which: DlqSelector; note: string; json: boolean };

export function parseDlqArgs(argv: string[]): DlqArgs {
  const { values: v, positionals } = parse(argv);
  if (v.help) return { command: "help" };
  const [command, ...rest] = positionals;
  const json = v.json ?? false;
  const selectorFlags = (["all", "offset", "partition", "event-id", "reason"] as const).filter(
    (f) => v[f] !== undefined,
  );
  if (command === undefined) throw new UsageError("missing command (depth, list, redrive, drop)");
  if (command !== "drop" && v.note !== undefined)
    throw new UsageError("--note: only drop takes a note");
  switch (command) {
    case "depth":
      if (selectorFlags.length > 0)
        throw new UsageError(`--${selectorFlags[0]}: depth takes no selector`);
      return { command, topics: rest, json };
    case "list":
      if (selectorFlags.length > 0)
        throw new UsageError(`--${selectorFlags[0]}: list takes no selector`);
      return { command, topic: oneTopic(command, rest), json };
    case "redrive":
      return { command, topic: oneTopic(command, rest), which: selector(command, v), json };
    case "drop": {
      const topic = oneTopic(command, rest);
      const which = selector(command, v);
      if (!v.note?.trim()) throw new UsageError('drop needs --note "why it is dropped"');
      return { command, topic, which, note: v.note, json };
    }
    default:
      throw new UsageError(`unknown command "${command}" (depth, list, redrive, drop)`);
  }
}

const OPTIONS = {
  all: { type: "boolean" },
  offset: { type: "string" },
  partition: { type: "string" },
  "event-id": { type: "string" },
  reason: { type: "string" },
  note: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = {
  all?: boolean;
  offset?: string;
  partition?: string;
  "event-id"?: string;
  reason?: string;
  note?: string;
  json?: boolean;
  help?: boolean;
};

/**
 * node's parseArgs, with each of its refusals as one line naming the option. Not strict
 * mode: that refuses `--offset -1` as "ambiguous" in three lines, where the value's own
 * check says what is wrong with it; the tokens are checked here instead.
 */
function parse(argv: string[]): { values: Values; positionals: string[] } {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: OPTIONS,
  });
  if (values.help) return { values: { help: true }, positionals: [] }; // --help wins
  for (const t of tokens) {
    if (t.kind !== "option") continue;
    const spec = Object.hasOwn(OPTIONS, t.name)
      ? (OPTIONS as Record<string, { type: string }>)[t.name]
      : undefined;
    if (!spec) throw new UsageError(`${t.rawName}: unknown option`);
    if (spec.type === "boolean" && t.value !== undefined)
      throw new UsageError(`${t.rawName}: takes no value (got "${t.value}")`);
    if (
      spec.type === "string" &&
      (t.value === undefined || (!t.inlineValue && t.value.startsWith("--")))
    )
      throw new UsageError(`${t.rawName}: missing value`);
    if (
      spec.type === "string" &&
      tokens.filter((o) => o.kind === "option" && o.name === t.name).length > 1
    )
      throw new UsageError(`${t.rawName}: given more than once`);
  }
  return { values: values as Values, positionals };
}

function oneTopic(command: string, rest: string[]): string {
  if (rest.length === 0) throw new UsageError(`${command}: missing <topic>`);
  if (rest.length > 1) throw new UsageError(`${command}: one topic only (got ${rest.join(" ")})`);
  return rest[0]!;
}

function selector(command: string, v: Values): DlqSelector {
  const given = [
    v.all ? "--all" : undefined,
    v.offset !== undefined ? "--offset" : undefined,
    v["event-id"] !== undefined ? "--event-id" : undefined,
    v.reason !== undefined ? "--reason" : undefined,
  ].filter((x) => x !== undefined);
  if (given.length !== 1)
    throw new UsageError(
      given.length === 0
        ? `${command}: choose the messages with --all, --offset N, --event-id ID or --reason REGEX`
        : `${command}: one selector only (got ${given.join(", ")})`,
    );
  if (v.partition !== undefined && v.offset === undefined)
    throw new UsageError("--partition: only with --offset");
  if (v.all) return "all";
  if (v.offset !== undefined) {
    const offset = wholeNumber("offset", v.offset);
    return v.partition === undefined
      ? { originalOffset: String(offset) }
      : {
          originalOffset: String(offset),
          originalPartition: wholeNumber("partition", v.partition),
        };
  }
  if (v["event-id"] !== undefined) {
    if (!v["event-id"].trim()) throw new UsageError("--event-id: empty");
    return { eventId: v["event-id"] };
  }
  try {
    return { reasonMatches: new RegExp(v.reason!) };
  } catch (error) {
    throw new UsageError(`--reason: ${(error as Error).message}`);
  }
}

function wholeNumber(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || n < 0)
    throw new UsageError(`--${flag}: "${text}" is not a whole number ≥ 0`);
  return n;
}
