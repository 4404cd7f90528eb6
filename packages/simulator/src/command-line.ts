/**
 * The strict command line shared by the CLIs that run a world (`pnpm sim`, `pnpm sim:engine`,
 * `pnpm ope`): every flag declared, every value checked, and one exit contract —
 * a bad argument is one line naming it and why plus a one-line usage hint (exit 2), a bad
 * input file is the file's problems (exit 2), anything else is its message (exit 1),
 * never a stack trace. `--help` prints the usage (exit 0).
 *
 * It lives here, not in @pw/config, because @pw/config is not a dependency of the
 * simulator or @pw/ope; it depends on nothing but Node, so it can move there as is.
 */

/** Input the user has to fix (a bad file, an unusable setting): exit 2. */
export class InputError extends Error {
  override name = "InputError";
}

/** A command line that cannot be run: exit 2, with a one-line usage hint. */
export class UsageError extends InputError {
  override name = "UsageError";
}

export type OptionSpec = { type: "boolean" } | { type: "string"; multiple?: boolean };

type Value<S extends OptionSpec> = S extends { type: "boolean" }
  ? true
  : S extends { multiple: true }
    ? string[]
    : string;

export type CommandLine<O extends Record<string, OptionSpec>> = {
  /** `--help` or `-h` was given (anywhere before `--`): nothing else was checked. */
  help: boolean;
  values: { [K in keyof O]?: Value<O[K]> };
  positionals: string[];
};

/** A negative number is a value (`-5000`, `-0.5`), not a cluster of short flags. */
const isNegativeNumber = (arg: string) => /^-(\d|\.\d)/.test(arg);

/**
 * Long options only (`--name value`, `--name=value`), plus `-h`; `--` ends the options.
 * Refused: an undeclared option (with the closest declared one when it looks like a typo),
 * a string option without a value, a value given to a boolean, a single-valued option twice.
 */
export function parseCommandLine<const O extends Record<string, OptionSpec>>(
  argv: readonly string[],
  options: O,
): CommandLine<O> {
  const end = argv.indexOf("--");
  const flags = end === -1 ? argv : argv.slice(0, end);
  if (flags.includes("--help") || flags.includes("-h"))
    return { help: true, values: {}, positionals: [] };
  const values: Record<string, string | string[] | true> = {};
  const positionals: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i]!;
    if (!arg.startsWith("-") || arg === "-" || isNegativeNumber(arg)) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`${arg}: unknown option${hint(arg, options)}`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = `--${name}`;
    const spec: OptionSpec | undefined = Object.hasOwn(options, name) ? options[name] : undefined;
    if (!spec) throw new UsageError(`${flag}: unknown option${hint(name, options)}`);
    let value: string | true;
    if (spec.type === "boolean") {
      if (eq !== -1) throw new UsageError(`${flag}: takes no value (got "${arg.slice(eq + 1)}")`);
      value = true;
    } else if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = flags[i + 1];
      if (next === undefined || (next.startsWith("-") && !isNegativeNumber(next)))
        throw new UsageError(`${flag}: missing value`);
      value = next;
      i++;
    }
    if (spec.type === "string" && spec.multiple)
      values[name] = [...((values[name] as string[] | undefined) ?? []), value as string];
    else if (values[name] !== undefined) throw new UsageError(`${flag}: given more than once`);
    else values[name] = value;
  }
  if (end !== -1) positionals.push(...argv.slice(end + 1));
  return { help: false, values: values as CommandLine<O>["values"], positionals };
}

/** " (did you mean --seed?)" for a name within two edits of a declared option. */
function hint(name: string, options: Record<string, OptionSpec>): string {
  const bare = name.replace(/^-+/, "");
  const close = Object.keys(options).filter((o) => editDistance(bare, o) <= 2);
  return close.length === 1 ? ` (did you mean --${close[0]}?)` : "";
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        row[j]! + 1,
        next[j - 1]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length]!;
}

export type Range = {
  min?: number;
  max?: number;
  /** The bound itself is not allowed (e.g. a discount in (0, 1]). */
  minExclusive?: boolean;
  maxExclusive?: boolean;
};

function describe(kind: string, r: Range): string {
  const lo = r.min === undefined ? undefined : `${r.minExclusive ? "(" : "["}${r.min}`;
  const hi = r.max === undefined ? undefined : `${r.max}${r.maxExclusive ? ")" : "]"}`;
  if (lo && hi) return `${kind} in ${lo}, ${hi}`;
  if (lo) return `${kind} ${r.minExclusive ? ">" : "≥"} ${r.min}`;
  if (hi) return `${kind} ${r.maxExclusive ? "<" : "≤"} ${r.max}`;
  return kind;
}

function inRange(n: number, r: Range): boolean {
  if (r.min !== undefined && (r.minExclusive ? n <= r.min : n < r.min)) return false;
  if (r.max !== undefined && (r.maxExclusive ? n >= r.max : n > r.max)) return false;
  return true;
}

/** A whole number in the range, or a UsageError: `--seed: "xyz" is not a whole number ≥ 0`. */
export function integerArg(name: string, text: string, range: Range = {}): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n) || !inRange(n, range))
    throw new UsageError(`${name}: "${text}" is not ${describe("a whole number", range)}`);
  return n;
}

/** A finite number in the range, or a UsageError: `--drift-discount: "2" is not a number in (0, 1]`. */
export function numberArg(name: string, text: string, range: Range = {}): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || !inRange(n, range))
    throw new UsageError(`${name}: "${text}" is not ${describe("a number", range)}`);
  return n;
}

/** One of the choices, or a UsageError naming them. */
export function choiceArg<const T extends string>(
  name: string,
  text: string,
  choices: readonly T[],
): T {
  if ((choices as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${name}: "${text}" is not one of ${choices.join(", ")}`);
}

/** A non-empty path. */
export function pathArg(name: string, text: string): string {
  if (text.trim() === "") throw new UsageError(`${name}: needs a path`);
  return text;
}

/** Seeds are 32-bit (`seededRng` keeps the low 32 bits), so a larger one would alias. */
export const SEED_RANGE: Range = { min: 0, max: 2 ** 32 - 1 };

/**
 * Runs a CLI's main and turns its outcome into the exit contract above. `usage` is the
 * `--help` text; its first line is the hint after a usage error. A failed run exits at
 * once (an engine or a database left open must not keep it alive); a finished one sets
 * the exit code and lets the process end when its work is flushed.
 */
export async function runCommand(
  name: string,
  usage: string,
  main: () => Promise<number | undefined>,
): Promise<void> {
  try {
    process.exitCode = (await main()) ?? 0;
  } catch (error) {
    const { code, text } = describeFailure(name, usage, error);
    // Wait for stderr to take the text: on a pipe it may be written asynchronously.
    await new Promise<void>((done) => process.stderr.write(text, () => done()));
    process.exit(code);
  }
}

/** The exit code and stderr text for an error, by the contract above. */
export function describeFailure(
  name: string,
  usage: string,
  error: unknown,
): { code: number; text: string } {
  if (error instanceof UsageError)
    return {
      code: 2,
      text: `${name}: ${oneLine(error.message)}\n${usage.split("\n")[0]}  (--help for details)\n`,
    };
  if (error instanceof InputError)
    // One line per problem (a file can have several), each prefixed so that grep finds them.
    return { code: 2, text: `${error.message.trim().replace(/^/gm, `${name}: `)}\n` };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 1, text: `${name}: ${oneLine(message) || "failed"}\n` };
}

const oneLine = (text: string) => text.trim().replace(/\s*\n\s*/g, "; ");

/** Prints the usage on stdout (for `--help`) and returns exit code 0. */
export function printUsage(usage: string): number {
  process.stdout.write(`${usage}\n`);
  return 0;
}
