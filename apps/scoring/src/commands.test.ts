// Scoring as a service (in-process bus, PGlite) obeying an operator's model rollback: a
// signed command on operator.commands.v1 brings an earlier version's weights back — the
// next lead is scored exactly as that version scored it — and is confirmed `applied` on
// operator.command_results.v1; a rollback to a version that does not exist, and an
// unsigned one, are confirmed `refused` with the reason and change nothing. Every version
// that becomes active is announced on model.updates.v1.
import { type Bus, createMemoryBus, publishEvents, subscribeTopic } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import {
  ALL_TOPICS,
  type CommandResultV1,
  commandKeyPair,
  envelope,
  formatCommandPublicKeys,
  type LeadScored,
  type ModelVersionActivatedV1,
  type OperatorCommand,
  signCommand,
  Topics,
} from "@pw/events";
import { createLogger } from "@pw/logger";
import { openDatabase } from "@pw/service";
import { waitFor } from "@pw/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crmEvent, marketLead, settledEvent } from "../test/fixtures.ts";
import { scoringConfig } from "./config.ts";
import { activeModel } from "./model-store.ts";
import { type RunningScoring, startScoring } from "./start.ts";

const gateway = commandKeyPair("gw-test");
const at = () => new Date().toISOString();
const director = { title: "Director of Sales", industry: "SaaS", employees: 300 };

let bus: Bus;
let db: DbHandle;
let scoring: RunningScoring;
let results: CommandResultV1[];
let scored: LeadScored[];
let models: ModelVersionActivatedV1[];

function rollback(version: number, o: { signed?: boolean; reason?: string } = {}) {
  const unsigned = envelope({
    type: "operator.model_rollback.v1",
    source: "pw://gateway",
    subject: "operator:global",
    data: { version, operator: "ada", ...(o.reason ? { reason: o.reason } : {}) },
  }) as OperatorCommand;
  return o.signed === false ? unsigned : signCommand(unsigned, gateway.privateKey, gateway.keyId);
}

/** `waitFor` for a value: resolves with what the check found. */
const found = <T>(check: () => T | undefined, message: string) =>
  waitFor(check, { timeoutMs: 30_000, message }) as Promise<NonNullable<T>>;

async function send(command: OperatorCommand) {
  await publishEvents(bus, Topics.operatorCommands, [command]);
  return found(
    () => results.find((r) => r.data.commandId === command.id),
    `scoring's confirmation of ${command.id}`,
  );
}

const scoreOf = (leadId: string) =>
  found(() => scored.find((s) => s.subject === leadId), `a score for ${leadId}`);

beforeEach(async () => {
  bus = createMemoryBus();
  db = await openDatabase({ driver: "pglite" });
  results = [];
  scored = [];
  models = [];
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  const tap = <T>(topic: Parameters<typeof subscribeTopic>[1]["topic"], into: T[]) =>
    subscribeTopic(bus, {
      groupId: "tap",
      topic,
      fromBeginning: true,
      handler: async (event) => void into.push(event as T),
    });
  await tap(Topics.operatorCommandResults, results);
  await tap(Topics.leadScored, scored);
  await tap(Topics.modelUpdates, models);
  scoring = await startScoring(
    scoringConfig({
      PORT: "0",
      OPERATOR_COMMAND_PUBLIC_KEYS: formatCommandPublicKeys([gateway]),
      SCORING_REFIT_CHECK_SECONDS: "1",
      // One refit, once the whole market below is labelled (the timer may tick mid-stream).
      SCORING_REFIT_EVERY_LABELS: "2000",
    }),
    {
      bus,
      db,
      logger: createLogger({ service: "scoring-test", level: "silent" }),
      listen: false,
    },
  );
}, 60_000);
afterEach(async () => {
  await scoring.stop();
  await bus.close();
  await db.close();
});

describe("operator model rollback", { timeout: 60_000 }, () => {
  it("a signed rollback brings the earlier weights back: the next lead scores as under that version, confirmed applied", async () => {
    await publishEvents(bus, Topics.leadEvents, [crmEvent("before", at(), director)]);
    const underV1 = await scoreOf("before");
    expect(underV1.data.model.version).toBe("builtin-v1");
    // Settled sends teach the model: a refit (the service's own timer) that beats the
    // priors becomes version 2, and the same profile now scores what the market shows.
    const market = Array.from({ length: 2_000 }, (_, i) => marketLead(i));
    await publishEvents(
      bus,
      Topics.leadEvents,
      market.map((l) => crmEvent(l.leadId, at(), l.profile)),
    );
    await waitFor(() => scored.length >= market.length + 1, {
      timeoutMs: 60_000,
      message: "the market's leads scored",
    });
    const ids = new Map(scored.map((e) => [e.subject, e.id]));
    await publishEvents(
      bus,
      Topics.outreachSettlements,
      market.map((l) => settledEvent(l.leadId, ids.get(l.leadId)!, l.rewarded, at())),
    );
    await waitFor(async () => (await activeModel(db.db)).version === 2, {
      timeoutMs: 60_000,
      message: "the refit",
    });
    await publishEvents(bus, Topics.leadEvents, [crmEvent("after-update", at(), director)]);
    const underV2 = await scoreOf("after-update");
    expect(underV2.data.model.version).toBe("builtin-v2");
    expect(underV2.data.score).toBeLessThan(underV1.data.score);

    const confirmation = await send(rollback(1, { reason: "bad week" }));
    expect(confirmation.data).toMatchObject({
      service: "scoring",
      commandType: "operator.model_rollback.v1",
      result: "applied",
      detail: expect.stringMatching(/^model rolled back to v1: leads are scored with builtin-v3/),
    });
    await publishEvents(bus, Topics.leadEvents, [crmEvent("after-rollback", at(), director)]);
    const underV3 = await scoreOf("after-rollback");
    expect(underV3.data.model.version).toBe("builtin-v3");
    expect(underV3.data.score).toBe(underV1.data.score);
    expect(underV3.data.reasons).toEqual(underV1.data.reasons);

    // Each version that became active was announced, the rollback saying where it came from.
    const announced = await found(
      () => (models.length >= 3 ? models : undefined),
      "three model versions announced",
    );
    expect(announced.map((m) => [m.data.version, m.data.cause, m.data.restoredFrom])).toEqual([
      [1, "initial", undefined],
      [2, "refit", undefined],
      [3, "rollback", 1],
    ]);
    expect(announced[1]!.data.holdout?.candidate.logLoss).toBeLessThan(
      announced[1]!.data.holdout!.previous.logLoss,
    );
    expect(announced[2]!.data.reason).toBe("rollback to v1 (by ada: bad week)");
    expect(announced[2]!.data.weights).toEqual(announced[0]!.data.weights);
  });

  it("a rollback to a version that does not exist is refused with the reason; the model stays", async () => {
    const confirmation = await send(rollback(99));
    expect(confirmation.data).toMatchObject({
      result: "refused",
      reason: "unknown_version",
      detail: "model version 99 does not exist (the latest is v1)",
    });
    expect((await activeModel(db.db)).version).toBe(1);
  });

  it("an unsigned rollback is refused as unverified and changes nothing", async () => {
    const confirmation = await send(rollback(1, { signed: false }));
    expect(confirmation.data).toMatchObject({
      result: "refused",
      reason: "unsigned",
      detail: "not verified (unsigned): the command carries no signature",
    });
    expect((await activeModel(db.db)).version).toBe(1);
    // Commands for other services are none of scoring's business: no answer from it.
    const kill = signCommand(
      envelope({
        type: "operator.kill_switch.v1",
        source: "pw://gateway",
        subject: "operator:global",
        data: { engaged: true, operator: "ada" },
      }) as OperatorCommand,
      gateway.privateKey,
      gateway.keyId,
    );
    await publishEvents(bus, Topics.operatorCommands, [kill, rollback(1)]);
    await waitFor(() => results.length === 2, {
      timeoutMs: 30_000,
      message: "the second rollback's confirmation",
    });
    expect(results.map((r) => r.data.commandType)).toEqual([
      "operator.model_rollback.v1",
      "operator.model_rollback.v1",
    ]);
  });
});
