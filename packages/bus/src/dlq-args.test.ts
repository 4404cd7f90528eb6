import { describe, expect, it } from "vitest";
import { parseDlqArgs, UsageError } from "./dlq-args.ts";

describe("pnpm dlq arguments", () => {
  it("reads each command and selector", () => {
    expect(parseDlqArgs(["list", "lead.events.v1"])).toEqual({
      command: "list",
      topic: "lead.events.v1",
      json: false,
    });
    expect(parseDlqArgs(["depth", "--json"])).toEqual({ command: "depth", topics: [], json: true });
    expect(parseDlqArgs(["redrive", "t", "--all"])).toMatchObject({ which: "all" });
    expect(parseDlqArgs(["redrive", "t", "--offset", "7", "--partition", "2"])).toMatchObject({
      which: { originalOffset: "7", originalPartition: 2 },
    });
    expect(parseDlqArgs(["redrive", "t", "--event-id", "e-1"])).toMatchObject({
      which: { eventId: "e-1" },
    });
    const reason = parseDlqArgs(["redrive", "t", "--reason", "timeout|refused"]);
    expect(reason).toMatchObject({ which: { reasonMatches: /timeout|refused/ } });
    expect(parseDlqArgs(["drop", "t", "--all", "--note", "fixed upstream"])).toMatchObject({
      command: "drop",
      note: "fixed upstream",
    });
  });

  it.each([
    [[], /missing command/],
    [["purge", "t"], /unknown command "purge"/],
    [["list"], /list: missing <topic>/],
    [["list", "a", "b"], /one topic only/],
    [["list", "t", "--all"], /--all: list takes no selector/],
    [["redrive", "t"], /choose the messages with --all/],
    [["redrive", "t", "--all", "--offset", "3"], /one selector only \(got --all, --offset\)/],
    [["redrive", "t", "--offset=-1"], /--offset: "-1" is not a whole number/],
    [["redrive", "t", "--partition", "1", "--all"], /--partition: only with --offset/],
    [["redrive", "t", "--reason", "("], /--reason: /],
    [["redrive", "t", "--all", "--note", "x"], /only drop takes a note/],
    [["drop", "t", "--all"], /drop needs --note/],
    [["list", "t", "--bogus"], /bogus/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseDlqArgs(argv as string[])).toThrow(UsageError);
    expect(() => parseDlqArgs(argv as string[])).toThrow(message);
  });
});
