// The operator-command loop with the real services in one process (in-process bus,
// PGlite), each started through its own startX: an operator signed in to the gateway turns
// approval mode on, a lead's decision waits in GET /api/approvals with the message as it
// will be sent, the approval sends it on and empties the queue, a model rollback makes
// scoring score with the earlier version — each command shown `applied` in the audit log
// with the service's own sentence — while a rollback to a version that does not exist, and
// a kill switch that dispatch cannot verify (it was given a rotated-out key), come back
// `refused` with the reason.
import { type Bus, createMemoryBus, publishEvents } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import { dispatchConfig, startDispatch } from "@pw/dispatch";
import {
  ALL_TOPICS,
  commandKeyPair,
  envelope,
  formatCommandPublicKeys,
  type LeadEvent,
  Topics,
} from "@pw/events";
import { experimentsConfig, startExperiments } from "@pw/experiments";
import { gatewayConfig, startGateway } from "@pw/gateway";
import { hashPassword } from "@pw/gateway/password";
import { createLogger } from "@pw/logger";
import { scoringConfig, startScoring } from "@pw/scoring";
import { openDatabase } from "@pw/service";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

type Audit = {
  commandId: string;
  result: string;
  detail: string | null;
  services: string[];
  confirmations: { service: string; result: string; detail: string; reason: string | null }[];
};

const gatewayKey = commandKeyPair("gw-now");
const rotatedOut = commandKeyPair("gw-old");
const password = "correct horse battery staple";
const logger = createLogger({ service: "command-loop-test", level: "silent" });

let bus: Bus;
let db: DbHandle;
const stopped: { stop(): Promise<void> }[] = [];
let gateway: Awaited<ReturnType<typeof startGateway>>;
let session: { cookie: string; csrfToken: string };

beforeAll(async () => {
  bus = createMemoryBus();
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  db = await openDatabase({ driver: "pglite" });
  const deps = { bus, db, logger, listen: false };
  const trusted = formatCommandPublicKeys([gatewayKey]);
  const base = { PORT: "0", OPERATOR_COMMAND_PUBLIC_KEYS: trusted };
  stopped.push(
    await startExperiments(
      experimentsConfig({ ...base, EXPERIMENT_REVIEW_EVERY_MS: "3600000" }),
      deps,
    ),
    await startScoring(scoringConfig(base), deps),
    // Dispatch still trusts only the key the gateway used before a rotation.
    await startDispatch(
      dispatchConfig({
        ...base,
        OPERATOR_COMMAND_PUBLIC_KEYS: formatCommandPublicKeys([rotatedOut]),
        UNSUBSCRIBE_SECRET: "x".repeat(32),
        DISPATCH_QUIET_HOURS: "off",
      }),
      deps,
    ),
  );
  gateway = await startGateway(
    gatewayConfig({
      PORT: "0",
      OPERATOR_COMMAND_PRIVATE_KEY: gatewayKey.privateKey
        .export({ format: "pem", type: "pkcs8" })
        .toString(),
      OPERATOR_COMMAND_KEY_ID: gatewayKey.keyId,
      GATEWAY_OPERATORS: `olga:operator:${await hashPassword(password)}`,
    }),
    deps,
  );
  stopped.push(gateway);
  const login = await gateway.app.inject({
    method: "POST",
    url: "/api/login",
    payload: { username: "olga", password },
  });
  expect(login.statusCode).toBe(200);
  session = {
    cookie: String(login.headers["set-cookie"]).split(";")[0]!,
    csrfToken: (login.json() as { csrfToken: string }).csrfToken,
  };
}, 120_000);

afterAll(async () => {
  for (const s of stopped.reverse()) await s.stop();
  await bus?.close();
  await db?.close();
});

const api = async (method: "GET" | "POST", url: string, payload?: object) => {
  const res = await gateway.app.inject({
    method,
    url,
    headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken },
    ...(payload ? { payload } : {}),
  });
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(method === "GET" ? 200 : 202);
  return res.json();
};
/** Issues a command and waits until the audit log no longer says `published`. */
async function settled(kind: string, body: object): Promise<Audit> {
  const { commandId } = (await api("POST", `/api/commands/${kind}`, body)) as {
    commandId: string;
  };
  return (await waitFor(
    async () => {
      const items = (await api("GET", "/api/audit?limit=200")).items as Audit[];
      const entry = items.find((i) => i.commandId === commandId);
      return entry && entry.result !== "published" ? entry : undefined;
    },
    { timeoutMs: 30_000, message: `the services' answers to ${kind}` },
  )) as Audit;
}

const lead = (leadId: string): LeadEvent =>
  envelope({
    type: "lead.crm_record_changed.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      source: "lightfield_webhook",
      objectType: "contacts",
      objectId: leadId,
      operation: "created",
      occurredAt: new Date().toISOString(),
      record: { id: leadId, fields: {}, relationships: {} },
      profile: {
        firstName: "Ada",
        lastName: "Lovelace",
        email: `${leadId}@analytical.example`,
        title: "VP Engineering",
        company: "Analytical Engines",
        industry: "SaaS",
        employees: 400,
      },
    },
  }) as LeadEvent;

describe("operator commands through the gateway, confirmed by the services", {
  timeout: 120_000,
}, () => {
  it("approval mode holds a decision in the queue with its message; approving sends it on", async () => {
    const mode = await settled("approval-mode", { enabled: true });
    expect(mode).toMatchObject({
      result: "applied",
      services: ["experiments"],
      detail: "approval mode on: new decisions wait for an operator",
    });
    expect((await api("GET", "/api/controls")).approvalMode).toMatchObject({
      enabled: true,
      by: "olga",
      confirmedBy: ["experiments"],
    });

    await publishEvents(bus, Topics.leadEvents, [lead("ada-1")]);
    const queue = await waitFor(
      async () => {
        const q = await api("GET", "/api/approvals");
        return q.items.length > 0 ? q : undefined;
      },
      { timeoutMs: 30_000, message: "the held decision in the approval queue" },
    );
    const [held] = queue.items;
    expect(held).toMatchObject({
      lead: { id: "ada-1", name: "Ada Lovelace", company: "Analytical Engines" },
      channel: "email",
      to: "ada-1@analytical.example",
      message: { subject: expect.any(String), body: expect.stringContaining("Ada") },
      explanation: { summary: expect.any(String) },
    });
    expect((await api("GET", "/api/controls")).pendingApprovals).toBe(1);

    const approved = await settled("approval", { requestId: held.requestId, decision: "approve" });
    expect(approved).toMatchObject({
      result: "applied",
      detail: expect.stringMatching(/^request .* for lead ada-1 .* approved: sent to dispatch$/),
    });
    await waitFor(async () => (await api("GET", "/api/approvals")).total === 0, {
      timeoutMs: 30_000,
      message: "the approved decision to leave the queue",
    });
    // The request went out with the message the queue showed.
    const journey = await api("GET", "/api/leads/ada-1/journey");
    const request = (journey.events as { type: string; data: Record<string, unknown> }[]).find(
      (e) => e.type === "outreach.requested.v1",
    );
    expect(request?.data).toMatchObject({
      requestId: held.requestId,
      subject: held.message.subject,
      body: held.message.body,
    });
  });

  it("a model rollback is obeyed by scoring and shown in the model list; an unknown version is refused", async () => {
    const unknown = await settled("model-rollback", { version: 99 });
    expect(unknown).toMatchObject({
      result: "refused",
      detail: "model version 99 does not exist (the latest is v1)",
      confirmations: [expect.objectContaining({ service: "scoring", reason: "unknown_version" })],
    });
    const rollback = await settled("model-rollback", { version: 1, reason: "drill" });
    expect(rollback).toMatchObject({
      result: "applied",
      detail: expect.stringMatching(/^model rolled back to v1: leads are scored with builtin-v2/),
    });
    const models = await waitFor(
      async () => {
        const m = await api("GET", "/api/models");
        return m.active === 2 ? m : undefined;
      },
      { timeoutMs: 30_000, message: "the rolled-back version in the model list" },
    );
    expect(models.items[0]).toMatchObject({ version: 2, cause: "rollback", restoredFrom: 1 });
    expect(models.items[0].weights).toEqual(models.items[1].weights);
    // Scoring scores with it at once.
    await publishEvents(bus, Topics.leadEvents, [lead("ada-2")]);
    await waitFor(
      async () => {
        const journey = await api("GET", "/api/leads/ada-2/journey");
        return (journey.events as { type: string; data: { model?: { version: string } } }[]).some(
          (e) => e.type === "lead.scored.v1" && e.data.model?.version === "builtin-v2",
        );
      },
      { timeoutMs: 30_000, message: "ada-2 scored with builtin-v2" },
    );
  });

  it("a kill switch that one service cannot verify is refused, with that service's reason", async () => {
    const kill = await settled("kill-switch", { engaged: true, reason: "drill" });
    // The audit is refused as soon as dispatch refused; the engine's answer arrives too.
    const both = (await waitFor(
      async () => {
        const items = (await api("GET", "/api/audit?limit=200")).items as Audit[];
        const entry = items.find((i) => i.commandId === kill.commandId);
        return entry && entry.confirmations.length === 2 ? entry : undefined;
      },
      { timeoutMs: 30_000, message: "both services' answers" },
    )) as Audit;
    expect(both.result).toBe("refused");
    expect(
      Object.fromEntries(both.confirmations.map((c) => [c.service, [c.result, c.reason]])),
    ).toEqual({
      experiments: ["applied", null],
      dispatch: ["refused", "unknown_key"],
    });
    expect(both.detail).toMatch(
      /dispatch: not verified \(unknown_key\): key gw-now is not configured/,
    );
    expect((await api("GET", "/api/controls")).killSwitch).toMatchObject({
      engaged: true,
      confirmedBy: ["experiments"],
      refusedBy: ["dispatch"],
    });
  });
});
