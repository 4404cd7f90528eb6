// Dispatch's side of operator commands, on embedded PGlite: each command it acts on is
// confirmed on operator.command_results.v1 in the transaction that applies it — the kill
// switch held, a suppressed lead's scheduled sends cancelled and counted — a forged one is
// confirmed refused with the reason and changes nothing, a redelivered one confirms once,
// and what dispatch does not act on (prioritising a lead) gets no answer from it.
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import { type CommandResultV1, commandKeyPair, signCommand } from "@pw/events";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { command, request } from "../test/fixtures.ts";
import { manualClock } from "./clock.ts";
import { consentBuilder } from "./consent.ts";
import { sendOf } from "./requests.ts";
import { insertSends, killSwitch } from "./store.ts";

const gateway = commandKeyPair("gw-test");
let handle: DbHandle;
let consent: ReturnType<typeof consentBuilder>;
const clock = manualClock("2026-11-24T12:00:00Z");

const confirmations = async () =>
  (await handle.db.select().from(schema.dispatchOutbox))
    .filter((r) => r.topic === "operator.command_results.v1")
    .map((r) => r.payload as CommandResultV1);

beforeEach(async () => {
  handle = await createDb({ driver: "pglite" });
  await migrate(handle);
  consent = consentBuilder({
    db: handle.db,
    clock,
    provider: "local",
    auth: {
      keys: new Map([[gateway.keyId, gateway.publicKey]]),
      maxAgeMs: 60_000,
      maxSkewMs: 60_000,
    },
  });
}, 60_000);
afterEach(() => handle.close());

describe("dispatch confirms the operator commands it acts on", { timeout: 60_000 }, () => {
  it("the kill switch: held, confirmed applied once even when redelivered", async () => {
    const engage = command(gateway, "operator.kill_switch.v1", {
      engaged: true,
      reason: "incident",
    });
    expect((await consent.handleCommand(engage)).result).toBe("kill_switch_engaged");
    expect((await consent.handleCommand(engage)).result).toBe("duplicate");
    expect((await killSwitch(handle.db))?.engaged).toBe(true);
    const [confirmation, ...more] = await confirmations();
    expect(more).toHaveLength(0);
    expect(confirmation).toMatchObject({
      subject: "operator:global",
      source: "pw://dispatch",
      data: {
        commandId: engage.id,
        commandType: "operator.kill_switch.v1",
        service: "dispatch",
        result: "applied",
        detail: "kill switch engaged: every send is held",
      },
    });
  });

  it("a suppression cancels the lead's scheduled sends and says how many", async () => {
    await handle.db.transaction((tx) =>
      insertSends(tx, [sendOf(request("lead-7"), clock.now())], clock.now()),
    );
    const suppress = command(gateway, "operator.lead_command.v1", { action: "suppress" }, "lead-7");
    expect((await consent.handleCommand(suppress)).result).toBe("applied");
    expect((await confirmations()).map((c) => [c.subject, c.data.result, c.data.detail])).toEqual([
      ["lead-7", "applied", "lead lead-7 suppressed: 1 scheduled send cancelled"],
    ]);
  });

  it("a forged command is confirmed refused with the reason and changes nothing; prioritise gets no answer", async () => {
    const forged = command(undefined, "operator.kill_switch.v1", { engaged: true });
    expect(await consent.handleCommand(forged)).toMatchObject({
      result: "unauthenticated",
      reason: "unsigned",
    });
    expect(await killSwitch(handle.db)).toBeUndefined();
    const prioritise = command(gateway, "operator.lead_command.v1", { action: "prioritise" }, "l1");
    expect((await consent.handleCommand(prioritise)).result).toBe("ignored");
    expect((await confirmations()).map((c) => c.data)).toEqual([
      expect.objectContaining({
        commandId: forged.id,
        result: "refused",
        reason: "unsigned",
        detail: "not verified (unsigned): the command carries no signature",
      }),
    ]);
    // The refusal did not use the id up: the genuine command with it still applies.
    const genuine = signCommand(forged, gateway.privateKey, gateway.keyId);
    expect((await consent.handleCommand(genuine)).result).toBe("kill_switch_engaged");
    expect((await killSwitch(handle.db))?.engaged).toBe(true);
  });
});
