// The shared strict command line: what it accepts, and the one-line reason for what it refuses.
import { describe, expect, it } from "vitest";
import {
  choiceArg,
  describeFailure,
  InputError,
  integerArg,
  numberArg,
  parseCommandLine,
  pathArg,
  SEED_RANGE,
  UsageError,
} from "./command-line.ts";

const options = {
  seed: { type: "string" },
  json: { type: "boolean" },
  candidate: { type: "string", multiple: true },
} as const;

describe("parseCommandLine", () => {
  it("reads flags, =values, repeated multi-valued flags, negative numbers and what follows --", () => {
    expect(
      parseCommandLine(
        [
          "w.json",
          "--seed",
          "-3",
          "--json",
          "--candidate=a",
          "--candidate",
          "b",
          "-5",
          "--",
          "--x",
        ],
        options,
      ),
    ).toEqual({
      help: false,
      values: { seed: "-3", json: true, candidate: ["a", "b"] },
      positionals: ["w.json", "-5", "--x"],
    });
  });

  it("answers --help or -h before checking anything else", () => {
    expect(parseCommandLine(["--bogus", "-h"], options).help).toBe(true);
    expect(parseCommandLine(["--", "--help"], options).help).toBe(false);
  });

  it.each([
    [["--sed", "1"], "--sed: unknown option (did you mean --seed?)"],
    [["--verbose"], "--verbose: unknown option"],
    [["-x"], "-x: unknown option"],
    [["--seed"], "--seed: missing value"],
    [["--seed", "--json"], "--seed: missing value"],
    [["--json=yes"], '--json: takes no value (got "yes")'],
    [["--seed", "1", "--seed=2"], "--seed: given more than once"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommandLine(argv, options)).toThrow(UsageError);
    expect(() => parseCommandLine(argv, options)).toThrow(message);
  });
});

describe("values", () => {
  it("checks whole numbers, numbers, choices and paths against their range", () => {
    expect(integerArg("--seed", "42", SEED_RANGE)).toBe(42);
    expect(() => integerArg("--seed", "xyz", SEED_RANGE)).toThrow(
      '--seed: "xyz" is not a whole number in [0, 4294967295]',
    );
    expect(() => integerArg("--seed", "4294967296", SEED_RANGE)).toThrow("--seed");
    expect(() => integerArg("leads", "1.5", { min: 1 })).toThrow(
      'leads: "1.5" is not a whole number ≥ 1',
    );
    expect(() => integerArg("leads", "", { min: 1 })).toThrow("leads");
    expect(numberArg("--d", "1", { min: 0, minExclusive: true, max: 1 })).toBe(1);
    expect(() => numberArg("--d", "0", { min: 0, minExclusive: true, max: 1 })).toThrow(
      '--d: "0" is not a number in (0, 1]',
    );
    expect(() => numberArg("--p", "-3", { min: 0 })).toThrow('--p: "-3" is not a number ≥ 0');
    expect(() => numberArg("--p", "Infinity", { min: 0 })).toThrow("--p");
    expect(choiceArg("--logging", "uniform", ["thompson", "uniform"])).toBe("uniform");
    expect(() => choiceArg("--logging", "greedy", ["thompson", "uniform"])).toThrow(
      '--logging: "greedy" is not one of thompson, uniform',
    );
    expect(() => pathArg("--logs", " ")).toThrow("--logs: needs a path");
  });
});

describe("the exit contract", () => {
  const usage = "usage: pnpm x <file>\n\n  more help";
  it("usage errors: exit 2, one line and the usage's first line", () => {
    expect(describeFailure("x", usage, new UsageError("--seed: missing value"))).toEqual({
      code: 2,
      text: "x: --seed: missing value\nusage: pnpm x <file>  (--help for details)\n",
    });
  });
  it("bad input: exit 2, one line per problem; anything else: exit 1, one line", () => {
    expect(describeFailure("x", usage, new InputError("f: a: bad\nf: b: bad"))).toEqual({
      code: 2,
      text: "x: f: a: bad\nx: f: b: bad\n",
    });
    expect(describeFailure("x", usage, new Error("connection refused\n  detail"))).toEqual({
      code: 1,
      text: "x: connection refused; detail\n",
    });
  });
});
