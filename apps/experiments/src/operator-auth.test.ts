// The engine as a service (in-process bus, PGlite): operator commands arrive on the
// topic; a refused one is logged with its reason and counted by result, a signed one is
// applied; started without keys, the service says once how to configure them.
import { Writable } from "node:stream";
import { createMemoryBus, publishEvents } from "@pw/bus";
import * as schema from "@pw/db/experiments";
import { commandKeyPair, formatCommandPublicKeys, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { openDatabase } from "@pw/service";
import { waitFor } from "@pw/testkit";
import { describe, expect, it } from "vitest";
import { killSwitch } from "../test/fixtures.ts";
import { experimentsConfig } from "./config.ts";
import { startExperiments } from "./start.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return {
    lines,
    logger: createLogger({ service: "experiments-test", level: "info", destination }),
  };
}

async function start(env: Record<string, string>) {
  const { lines, logger } = capture();
  const bus = createMemoryBus();
  const db = await openDatabase({ driver: "pglite" });
  const running = await startExperiments(
    experimentsConfig({ PORT: "0", EXPERIMENT_REVIEW_EVERY_MS: "3600000", ...env }),
    { bus, db, logger, listen: false },
  );
  return {
    lines,
    bus,
    db,
    running,
    counted: async (result: string) => {
      const text = await running.metrics.registry.metrics();
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("pw_events_handled_total{") &&
            l.includes(`topic="${Topics.operatorCommands}"`) &&
            l.includes(`result="${result}"`),
        );
      return line ? Number(line.split(" ").at(-1)) : 0;
    },
    stop: async () => {
      await running.stop();
      await bus.close();
      await db.close();
    },
  };
}

describe("operator commands on the topic", () => {
  it("refuses an unsigned command (logged with the reason, counted as unauthenticated) and applies a signed one", async () => {
    const gw = commandKeyPair("gw-1");
    const s = await start({ OPERATOR_COMMAND_PUBLIC_KEYS: formatCommandPublicKeys([gw]) });
    try {
      const engaged = async () =>
        (await s.db.db.select().from(schema.settings)).some(
          (r) => r.key === "kill_switch" && r.enabled,
        );
      const forged = killSwitch(true);
      await publishEvents(s.bus, Topics.operatorCommands, [forged]);
      await waitFor(async () => (await s.counted("unauthenticated")) === 1, {
        timeoutMs: 10_000,
        message: "the refusal to be counted",
      });
      expect(await engaged()).toBe(false);
      const refusal = s.lines.find((l) => l.msg === "operator command refused");
      expect(refusal).toMatchObject({
        level: "warn",
        eventId: forged.id,
        commandType: "operator.kill_switch.v1",
        result: "unauthenticated",
        reason: "unsigned",
        claimedOperator: "ops@acme.io",
      });
      await publishEvents(s.bus, Topics.operatorCommands, [killSwitch(true, gw)]);
      await waitFor(engaged, { timeoutMs: 10_000, message: "the signed kill switch" });
      expect(await s.counted("applied")).toBe(1);
      // No startup warning: keys are configured.
      expect(s.lines.some((l) => String(l.msg).includes("OPERATOR_COMMAND_PUBLIC_KEYS"))).toBe(
        false,
      );
    } finally {
      await s.stop();
    }
  });

  it("without keys, says once at start how to configure them, and refuses every command", async () => {
    const s = await start({});
    try {
      const hints = s.lines.filter((l) => String(l.msg).includes("OPERATOR_COMMAND_PUBLIC_KEYS"));
      expect(hints).toHaveLength(1);
      expect(hints[0]).toMatchObject({ level: "warn" });
      const signed = killSwitch(true, commandKeyPair("gw"));
      await publishEvents(s.bus, Topics.operatorCommands, [signed, killSwitch(true)]);
      await waitFor(async () => (await s.counted("unauthenticated")) === 2, {
        timeoutMs: 10_000,
        message: "both refusals",
      });
      expect(
        s.lines.filter((l) => l.msg === "operator command refused").map((l) => l.reason),
      ).toEqual(["no_keys_configured", "no_keys_configured"]);
      expect(
        s.lines.filter((l) => String(l.msg).includes("OPERATOR_COMMAND_PUBLIC_KEYS")),
      ).toHaveLength(1);
    } finally {
      await s.stop();
    }
  });
});
