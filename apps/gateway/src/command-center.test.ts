// The command center's loop on the gateway (PGlite + the in-process bus): a command issued
// through the API is answered by each service it is meant for on
// operator.command_results.v1 — published here exactly as the services build it — and the
// audit log keeps every answer, counts the command applied only once all of them applied
// it (refused as soon as one refused), streams each confirmation live, and the controls
// follow. The approval queue and the model versions come from what the engine and scoring
// publish. (The loop with the real services: apps/embedded/src/command-loop.test.ts.)
import { publishEvents } from "@pw/bus";
import {
  type CommandService,
  commandResult,
  envelope,
  type OperatorCommand,
  Topics,
} from "@pw/events";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestSession, testGateway } from "../test/auth-helpers.ts";
import { at, crm, requested } from "../test/read-fixtures.ts";
import { openSse, type SseClient } from "../test/read-sse.ts";

type Confirmation = { service: string; result: string; detail: string; reason: string | null };
type AuditItem = {
  commandId: string;
  commandType: string;
  result: string;
  detail: string | null;
  resultAt: string | null;
  services: string[];
  confirmations: Confirmation[];
  awaiting: string[];
};

let gw: TestGateway;
let olga: TestSession;
let base: string;
const clients: SseClient[] = [];
beforeAll(async () => {
  gw = await testGateway();
  olga = await gw.session("olga", "operator");
  base = await gw.app.listen({ port: 0, host: "127.0.0.1" });
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await gw?.stop();
});

const get = async (url: string) => {
  const res = await gw.as(olga, { method: "GET", url });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
};
async function issue(kind: string, body: object): Promise<OperatorCommand> {
  const res = await gw.as(olga, { method: "POST", url: `/api/commands/${kind}`, payload: body });
  expect(res.statusCode, res.body).toBe(202);
  const { commandId } = res.json() as { commandId: string };
  return (await waitFor(() => gw.published.find((c) => c.id === commandId), {
    timeoutMs: 30_000,
    message: `${kind} on the topic`,
  })) as OperatorCommand;
}
/** A service's answer, as the services build it (commandResult from @pw/events). */
const confirm = (
  command: OperatorCommand,
  service: CommandService,
  result: "applied" | "refused",
  detail: string,
  reason?: string,
) =>
  publishEvents(gw.bus, Topics.operatorCommandResults, [
    commandResult(command, { service, result, detail, reason, at: new Date() }),
  ]);
const audit = async (commandId: string) =>
  ((await get("/api/audit?limit=200")).items as AuditItem[]).find((i) => i.commandId === commandId);
const auditWhen = (commandId: string, ok: (a: AuditItem) => boolean, message: string) =>
  waitFor(
    async () => {
      const a = await audit(commandId);
      return a && ok(a) ? a : undefined;
    },
    { timeoutMs: 30_000, message },
  ) as Promise<AuditItem>;

describe("command confirmations", { timeout: 60_000 }, () => {
  it("the kill switch counts as applied once experiments and dispatch both confirmed; each answer is kept and streamed live", async () => {
    const live = await openSse(`${base}/api/stream?topics=${Topics.operatorCommandResults}`, {
      headers: { cookie: olga.cookie },
    });
    clients.push(live);
    expect(live.status).toBe(200);
    const kill = await issue("kill-switch", { engaged: true, reason: "bad copy in the wild" });
    expect(await audit(kill.id)).toMatchObject({
      result: "published",
      services: ["experiments", "dispatch"],
      awaiting: ["experiments", "dispatch"],
      confirmations: [],
    });
    const before = await get("/api/controls");
    expect(before.killSwitch).toMatchObject({
      engaged: false,
      pending: { engaged: true, by: "olga", commandId: kill.id },
    });

    await confirm(kill, "dispatch", "applied", "kill switch engaged: every send is held");
    const half = await auditWhen(kill.id, (a) => a.confirmations.length === 1, "dispatch's answer");
    expect(half).toMatchObject({ result: "published", awaiting: ["experiments"], resultAt: null });
    expect((await get("/api/controls")).killSwitch).toMatchObject({
      engaged: true,
      by: "olga",
      reason: "bad copy in the wild",
      commandId: kill.id,
      confirmedBy: ["dispatch"],
      awaiting: ["experiments"],
      pending: null,
    });

    await confirm(
      kill,
      "experiments",
      "applied",
      "kill switch engaged: no new outreach is decided",
    );
    const done = await auditWhen(kill.id, (a) => a.result === "applied", "both answers");
    expect(done).toMatchObject({
      detail:
        "experiments: kill switch engaged: no new outreach is decided; dispatch: kill switch engaged: every send is held",
      awaiting: [],
      resultAt: expect.any(String),
    });
    expect(done.confirmations.map((c) => [c.service, c.result, c.reason])).toEqual([
      ["dispatch", "applied", null],
      ["experiments", "applied", null],
    ]);
    // The dashboard saw both confirmations arrive, as they arrived.
    const rows = await waitFor(
      () => {
        const got = live.events().filter((e) => e.type === "operator.command_result.v1");
        return got.length >= 2 ? got : undefined;
      },
      { timeoutMs: 30_000, message: "two confirmation rows on the live stream" },
    );
    expect(
      rows!.map((r) => {
        const d = (r as unknown as { data: { commandId: string; service: string } }).data;
        return [r.subject, d.commandId, d.service];
      }),
    ).toEqual([
      ["operator:global", kill.id, "dispatch"],
      ["operator:global", kill.id, "experiments"],
    ]);

    // A redelivered confirmation, and a forged copy's refusal after it, change nothing; the
    // release behind them on the same key shows they were read.
    await confirm(kill, "dispatch", "applied", "kill switch engaged: every send is held");
    await confirm(kill, "dispatch", "refused", "not verified (unsigned): …", "unsigned");
    const release = await issue("kill-switch", { engaged: false });
    await confirm(release, "dispatch", "applied", "kill switch released: held sends go out");
    await auditWhen(release.id, (a) => a.confirmations.length === 1, "the release's answer");
    expect(await audit(kill.id)).toMatchObject({ result: "applied", detail: done.detail });
    expect((await audit(kill.id))?.confirmations).toHaveLength(2);
    expect((await get("/api/controls")).killSwitch).toMatchObject({
      engaged: false,
      commandId: release.id,
      confirmedBy: ["dispatch"],
      awaiting: ["experiments"],
    });
  });

  it("one service refusing makes the command refused, with the reason kept; an applied answer replaces a forged copy's refusal", async () => {
    const dnc = await issue("lead", { leadId: "lead-9", action: "do_not_contact" });
    expect((await audit(dnc.id))?.services).toEqual(["experiments", "dispatch"]);
    await confirm(dnc, "experiments", "applied", "lead lead-9 put on the do-not-contact list");
    await confirm(
      dnc,
      "dispatch",
      "refused",
      "not verified (unknown_key): key gw-old is not configured",
      "unknown_key",
    );
    const refused = await auditWhen(dnc.id, (a) => a.result === "refused", "the refusal");
    expect(refused.detail).toBe(
      "experiments: lead lead-9 put on the do-not-contact list; dispatch: not verified (unknown_key): key gw-old is not configured",
    );
    expect(refused.confirmations.find((c) => c.service === "dispatch")).toMatchObject({
      result: "refused",
      reason: "unknown_key",
    });
    // Only a verified command can be applied: its answer stands over a refusal.
    await confirm(dnc, "dispatch", "applied", "lead lead-9 opted out: 0 scheduled sends cancelled");
    await auditWhen(dnc.id, (a) => a.result === "applied", "the genuine answer");
  });

  it("a model rollback is an operator's command meant for scoring; an unknown version comes back refused", async () => {
    const bad = await gw.as(olga, {
      method: "POST",
      url: "/api/commands/model-rollback",
      payload: { version: 0 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/version/);
    const rollback = await issue("model-rollback", { version: 99, reason: "v4 went wild" });
    expect(rollback).toMatchObject({
      type: "operator.model_rollback.v1",
      subject: "operator:global",
      data: { version: 99, reason: "v4 went wild", operator: "olga" },
    });
    expect((await audit(rollback.id))?.services).toEqual(["scoring"]);
    await confirm(
      rollback,
      "scoring",
      "refused",
      "model version 99 does not exist (the latest is v4)",
      "unknown_version",
    );
    const refused = await auditWhen(rollback.id, (a) => a.result === "refused", "scoring's answer");
    expect(refused).toMatchObject({
      detail: "model version 99 does not exist (the latest is v4)",
      confirmations: [expect.objectContaining({ service: "scoring", reason: "unknown_version" })],
    });
  });
});

const model = (
  version: number,
  cause: "initial" | "online_update" | "refit" | "rollback",
  minute: number,
  extra: Record<string, unknown> = {},
) =>
  envelope({
    id: `model_builtin_v${version}`,
    type: "model.version_activated.v1",
    source: "pw://scoring",
    subject: "model:builtin",
    data: {
      version,
      name: `builtin-v${version}`,
      cause,
      reason: cause === "initial" ? "initial priors" : `${cause} ${version}`,
      ...(version > 1 ? { previousVersion: version - 1 } : {}),
      weights: { bias: -2.2 + version / 10, intent: 2.6 },
      at: at(minute),
      ...extra,
    },
  });
/** Figures on a holdout, as scoring's `model.updates.v1` carries them. */
const figures = (auc: number, logLoss: number, ece: number) => ({
  n: 80,
  positives: 12,
  baseRate: 0.15,
  meanPredicted: 0.17,
  auc,
  logLoss,
  ece,
});
const holdout = (candidate: object, verdict: string) => ({
  candidate,
  previous: figures(0.61, 0.43, 0.08),
  trainedOn: 320,
  verdict,
});
const rejectedCandidate = (
  version: number,
  activeVersion: number,
  minute: number,
  verdict = `log-loss 0.47 is not below 0.43: kept v${activeVersion}`,
) =>
  envelope({
    id: `model_builtin_v${version}`,
    type: "model.candidate_rejected.v1",
    source: "pw://scoring",
    subject: "model:builtin",
    data: {
      version,
      name: `builtin-v${version}`,
      activeVersion,
      weights: { bias: -3, intent: 1.1 },
      holdout: holdout(figures(0.55, 0.47, 0.12), verdict),
      at: at(minute),
    },
  });

describe("model versions", { timeout: 60_000 }, () => {
  it("GET /api/models: newest first, the active one marked (never a rejected refit), with each version's figures", async () => {
    const tiers = { hot: 0.4, warm: 0.15, basis: "percentiles of 500 recent scores" };
    await publishEvents(gw.bus, Topics.modelUpdates, [
      model(1, "initial", 0),
      model(2, "online_update", 10, { evaluation: { label: 1, predicted: 0.3 } }),
      model(3, "online_update", 20, { evaluation: { label: 0, predicted: 0.2 } }),
      model(4, "rollback", 30, { restoredFrom: 1 }),
      model(5, "refit", 40, {
        holdout: holdout(figures(0.72, 0.38, 0.04), "log-loss 0.38 < 0.43: promoted"),
        tiers,
      }),
      rejectedCandidate(6, 5, 50),
      // The operator takes the rejected weights anyway; the rollback follows v5, not v6.
      model(7, "rollback", 60, { previousVersion: 5, restoredFrom: 6, tiers }),
      // The newest version, yet not the active one.
      rejectedCandidate(8, 7, 70),
    ] as never);
    const models = await waitFor(
      async () => {
        const m = await get("/api/models");
        return m.items.length === 8 ? m : undefined;
      },
      { timeoutMs: 30_000, message: "eight versions" },
    );
    expect(models.active).toBe(7);
    expect(models.items.map((v: { version: number }) => v.version)).toEqual([
      8, 7, 6, 5, 4, 3, 2, 1,
    ]);
    expect(models.items[0]).toMatchObject({
      version: 8,
      active: false,
      rejected: true,
      previousVersion: 7,
      supersededAt: null,
    });
    expect(models.items[1]).toMatchObject({
      name: "builtin-v7",
      active: true,
      rejected: false,
      cause: "rollback",
      restoredFrom: 6,
      previousVersion: 5,
      activatedAt: at(60),
      supersededAt: null,
      holdout: null,
      tiers,
      // No figures of its own, and the online updates' were about a model a refit replaced.
      metrics: null,
    });
    expect(models.items[2]).toMatchObject({
      version: 6,
      active: false,
      rejected: true,
      cause: "rejected",
      reason: "log-loss 0.47 is not below 0.43: kept v5",
      previousVersion: 5,
      activatedAt: at(50),
      // Never active: nothing replaced it, and it replaced nothing.
      supersededAt: null,
      tiers: null,
      holdout: { candidate: { auc: 0.55 }, previous: { auc: 0.61 }, trainedOn: 320 },
      metrics: {
        window: 80,
        positives: 12,
        auc: 0.55,
        logLoss: 0.47,
        ece: 0.12,
        meanPredicted: 0.17,
        observedRate: 0.15,
      },
    });
    expect(models.items[3]).toMatchObject({
      version: 5,
      active: false,
      rejected: false,
      cause: "refit",
      // Replaced by the rollback, not by the rejected candidate judged in between.
      supersededAt: at(60),
      tiers,
      holdout: {
        previous: { logLoss: 0.43, ece: 0.08 },
        verdict: "log-loss 0.38 < 0.43: promoted",
      },
      metrics: { window: 80, auc: 0.72, logLoss: 0.38, ece: 0.04, observedRate: 0.15 },
    });
    expect(models.items[4]).toMatchObject({
      version: 4,
      cause: "rollback",
      supersededAt: at(40),
      weights: { bias: expect.closeTo(-1.8, 5), intent: 2.6 },
      // An earlier release's version: the window reaches back over every labelled outcome up to it.
      metrics: { window: 2, brier: 0.265, meanPredicted: 0.25, observedRate: 0.5 },
    });
    expect(models.items[6]).toMatchObject({
      version: 2,
      active: false,
      rejected: false,
      supersededAt: at(20),
      evaluation: { label: 1, predicted: 0.3 },
      holdout: null,
      metrics: { window: 1, brier: 0.49 },
    });
    expect(models.items[7]).toMatchObject({ cause: "initial", metrics: null });

    // Pages: a page starting below a rejected candidate still finds what replaced its top.
    const first = await get("/api/models?limit=3");
    expect(first.active).toBe(7);
    expect(first.items.map((v: { version: number }) => v.version)).toEqual([8, 7, 6]);
    const second = await get(`/api/models?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((v: { version: number }) => v.version)).toEqual([5, 4]);
    expect(second.items[0].supersededAt).toBe(at(60));
    expect(second.items[1].metrics).toMatchObject({ window: 2, brier: 0.265 });
    const third = await get(`/api/models?limit=2&cursor=${second.nextCursor}`);
    expect(third.items.map((v: { version: number }) => v.version)).toEqual([3, 2]);
    expect(third.items[0].supersededAt).toBe(at(30));
    const last = await get(`/api/models?limit=2&cursor=${third.nextCursor}`);
    expect(last.items.map((v: { version: number }) => v.version)).toEqual([1]);
    expect(last.nextCursor).toBeNull();
  });
});

const held = (leadId: string, requestId: string, minute: number, facts = {}) => {
  const r = requested(leadId, { body: `Hi — a note for ${leadId}` });
  return envelope({
    id: `held_${requestId}`,
    type: "experiment.decision_held.v1",
    source: "pw://experiments",
    subject: leadId,
    data: { request: { ...r.data, requestId }, lead: facts, heldAt: at(minute) },
  });
};
const resolved = (leadId: string, requestId: string, resolution: string) =>
  envelope({
    id: `resolved_${requestId}`,
    type: "experiment.decision_resolved.v1",
    source: "pw://experiments",
    subject: leadId,
    data: {
      requestId,
      segment: "vp_mid",
      variantId: "roi",
      resolution,
      by: "olga",
      reason: `${resolution} by olga`,
      at: at(9),
    },
  });

describe("the approval queue", { timeout: 60_000 }, () => {
  it("GET /api/approvals: each held decision with its lead and the exact message, oldest first; a resolved one leaves", async () => {
    await publishEvents(gw.bus, Topics.leadEvents, [
      crm("lead-a", { firstName: "Ada", lastName: "Lovelace", company: "Analytical Engines" }),
    ] as never);
    await publishEvents(gw.bus, Topics.experimentUpdates, [
      held("lead-b", "req_b", 2, { firstName: "Bo", company: "Bits Ltd", role: "CTO" }),
      held("lead-a", "req_a", 1),
    ] as never);
    const queue = await waitFor(
      async () => {
        const q = await get("/api/approvals");
        return q.items.length === 2 && q.items[0].lead.name ? q : undefined;
      },
      { timeoutMs: 30_000, message: "two held decisions" },
    );
    expect(queue.items.map((i: { requestId: string }) => i.requestId)).toEqual(["req_a", "req_b"]);
    expect(queue.items[0]).toEqual({
      requestId: "req_a",
      lead: {
        id: "lead-a",
        name: "Ada Lovelace",
        company: "Analytical Engines",
        role: null,
        score: null,
        tier: null,
      },
      segment: "vp_mid",
      variantId: "roi",
      channel: "email",
      to: "lead-a@acme.io",
      message: { subject: "Hello", body: "Hi — a note for lead-a", followUps: [] },
      explanation: expect.objectContaining({ summary: "roi leads vp_mid with P(best) 62%" }),
      priority: 70.4,
      copy: null,
      heldAt: at(1),
    });
    // No CRM profile seen for lead-b: what the engine knew of it.
    expect(queue.items[1].lead).toMatchObject({ name: "Bo", company: "Bits Ltd", role: "CTO" });
    expect((await get("/api/controls")).pendingApprovals).toBe(2);

    await publishEvents(gw.bus, Topics.experimentUpdates, [
      resolved("lead-a", "req_a", "approved"),
    ] as never);
    const after = await waitFor(
      async () => {
        const q = await get("/api/approvals");
        return q.total === 1 ? q : undefined;
      },
      { timeoutMs: 30_000, message: "the approved decision to leave the queue" },
    );
    expect(after.items.map((i: { requestId: string }) => i.requestId)).toEqual(["req_b"]);
    expect((await get("/api/controls")).pendingApprovals).toBe(1);
    expect((await gw.as(olga, { method: "GET", url: "/api/approvals?limit=0" })).statusCode).toBe(
      400,
    );
  });
});
