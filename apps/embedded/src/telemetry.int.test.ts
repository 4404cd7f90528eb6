// Sentry across separate service processes on a real Kafka broker and PostgreSQL: ingest,
// scoring, the engine and dispatch each run as `node --import @pw/telemetry/instrument
// src/main.ts` (as deployed), the DSN pointed at a local collector that speaks Sentry's
// envelope endpoint. One lead's CRM webhook and intent signals are posted to ingest with
// the sender's trace; the lead is scored (stackAI fails: the built-in model answers),
// chosen for and sent; days later a provider reports a booked meeting on a trace of its
// own. Every service's span of the lead is in that one trace, each the child of the span
// that caused it — across processes, the broker and each outbox — and the outcome is
// recorded in it under the decision, linked to its webhook; the stackAI failure arrives
// as an error grouped by its cause; the send and the meeting as metrics; and no e-mail
// address or name is in anything sent to Sentry.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { createKafkaBus } from "@pw/bus";
import { createDb, migrate, queryRows } from "@pw/db";
import { ALL_TOPICS, Topics } from "@pw/events";
import { signed } from "@pw/ingest/sign-request";
import { startStackAiServer } from "@pw/stackai/test-server";
import { startSentryCollector } from "@pw/telemetry/test-collector";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const apps = join(import.meta.dirname, "../..");

type Span = {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  attributes?: Record<string, unknown>;
};

describe.runIf(kafka && pg)("Sentry across service processes", () => {
  const children: (ChildProcess & { output: string[] })[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  it("one trace per lead journey across processes and the broker, errors by cause, nothing personal", {
    timeout: 180_000,
  }, async () => {
    const collector = await startSentryCollector();
    const stackai = await startStackAiServer();
    stackai.reply(...Array.from({ length: 20 }, () => ({ status: 500 })));
    const database = await pg!.createDatabase("pw_telemetry");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    const prefix = `${kafka!.uniqueName("telemetry")}.`;
    const bus = createKafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: prefix,
      sessionTimeout: 10_000,
    });
    await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 2 })));
    const sent: string[] = [];
    await bus.subscribe({
      groupId: "tap",
      topic: Topics.outreachDispatched,
      fromBeginning: true,
      decode: (v) => v as { subject: string; data: { status: string } },
      handler: async (e) => void (e.data.status === "sent" && sent.push(e.subject)),
    });
    const requests: { leadId: string; requestId: string; segment: string; variantId: string }[] =
      [];
    await bus.subscribe({
      groupId: "tap-requests",
      topic: Topics.outreachRequested,
      fromBeginning: true,
      decode: (v) =>
        v as { subject: string; data: { requestId: string; segment: string; variantId: string } },
      handler: async (e) => void requests.push({ leadId: e.subject, ...e.data }),
    });
    const o = stackai.options("scoring", { maxRetries: 0 });
    const common = {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      LOG_LEVEL: "warn",
      DATABASE_URL: database.url,
      BUS_DRIVER: "kafka",
      KAFKA_BROKERS: kafka!.brokers.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      SENTRY_DSN: collector.dsn,
      SENTRY_TRACES_SAMPLE_RATE: "1",
      SENTRY_ENVIRONMENT: "test",
      ALLOW_INSECURE_VENDOR_URLS: "1",
    };
    const start = (app: string, env: Record<string, string>) => {
      const child = spawn(
        process.execPath,
        ["--import", "@pw/telemetry/instrument", "src/main.ts"],
        { cwd: join(apps, app), env: { ...common, ...env }, stdio: ["ignore", "pipe", "pipe"] },
      ) as ChildProcess & { output: string[] };
      child.output = [];
      child.stdout!.on("data", (d: Buffer) => child.output.push(d.toString()));
      child.stderr!.on("data", (d: Buffer) => child.output.push(d.toString()));
      children.push(child);
      return child;
    };
    const unsubscribe = randomBytes(24).toString("base64url");
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const ingest = start("ingest", {
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      WEBHOOK_SECRET: secret,
      UNSUBSCRIBE_SECRET: unsubscribe,
    });
    const processes = [
      ingest,
      start("experiments", { EXPERIMENT_REVIEW_EVERY_MS: "500", SERVICE_NAME: "experiments" }),
      start("scoring", {
        STACKAI_BASE_URL: o.baseUrl,
        STACKAI_API_KEY: o.apiKey,
        STACKAI_ORG_ID: o.orgId,
        STACKAI_FLOW_ID: o.flowId,
        STACKAI_TIMEOUT_MS: "500",
      }),
      start("dispatch", {
        DISPATCH_QUIET_HOURS: "off",
        DISPATCH_POLL_MS: "100",
        UNSUBSCRIBE_SECRET: unsubscribe,
        UNSUBSCRIBE_BASE_URL: "http://127.0.0.1:9/",
      }),
    ];
    try {
      const url = await waitFor(
        () => ingest.output.map((l) => /"url":"(http:\/\/[^"]+)"/.exec(l)?.[1]).find(Boolean),
        { timeoutMs: 60_000, message: "ingest listening" },
      );
      const post = async (path: string, body: unknown, traceparent?: string) => {
        const req = signed(path, JSON.stringify(body), {
          secret,
          headers: traceparent ? { traceparent } : {},
        });
        const res = await fetch(`${url}${path}`, {
          method: "POST",
          headers: req.headers,
          body: req.payload,
        });
        expect(res.status).toBe(202);
        return (await res.json()) as { eventId: string };
      };
      // The CRM's webhook starts the lead's trace (the sender's traceparent), and its
      // intent signals continue it.
      const traceId = randomBytes(16).toString("hex");
      const trace = () => `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
      const at = new Date().toISOString();
      await post(
        "/webhooks/lightfield",
        {
          type: "contact.created",
          occurredAt: at,
          object: {
            id: "ct_proc_1",
            fields: {
              $email: { value: "grace@example.com", valueType: "EMAIL" },
              $name: {
                value: { firstName: "Grace", lastName: "Hopper" },
                valueType: "FULL_NAME",
              },
              $title: { value: "VP Engineering", valueType: "TEXT" },
            },
            relationships: {},
          },
        },
        trace(),
      );
      for (const type of ["demo_requested", "pricing_viewed"])
        await post("/webhooks/signals", { type, occurredAt: at, leadId: "lf_ct_proc_1" }, trace());
      await waitFor(() => sent.includes("lf_ct_proc_1"), {
        timeoutMs: 120_000,
        message: "the lead's message sent",
      }).catch((error) => {
        throw new Error(
          `${(error as Error).message}\n${processes.map((p) => p.output.join("")).join("\n---\n")}`,
        );
      });
      // The lead books a meeting (the campaign's reward), reported as ingest would.
      const request = requests.find((r) => r.leadId === "lf_ct_proc_1")!;
      // On a trace of its own: a provider's webhook carries no traceparent.
      const outcome = await post("/webhooks/outcomes", {
        type: "meeting_booked",
        occurredAt: new Date().toISOString(),
        leadId: "lf_ct_proc_1",
        requestId: request.requestId,
      });
      await waitFor(
        async () =>
          (
            await queryRows(
              db.db,
              sql`select 1 from experiments.decisions where request_id = ${request.requestId} and rewarded`,
            )
          ).length === 1,
        { timeoutMs: 60_000, message: "the engine crediting the meeting" },
      );
      // SIGTERM: each process stops and flushes what it buffered.
      for (const p of processes) p.kill("SIGTERM");
      await Promise.all(processes.map((p) => (p.exitCode === null ? once(p, "exit") : undefined)));
      const spans: Span[] = [];
      const visit = (v: unknown) => {
        if (Array.isArray(v)) for (const x of v) visit(x);
        else if (v && typeof v === "object") {
          const s = v as Record<string, unknown>;
          if (
            typeof s.trace_id === "string" &&
            typeof s.span_id === "string" &&
            typeof s.name === "string"
          )
            spans.push(s as unknown as Span);
          for (const x of Object.values(s)) visit(x);
        }
      };
      await waitFor(
        () => {
          spans.length = 0;
          for (const item of collector.items("span")) visit(item.payload);
          const names = new Set(spans.filter((s) => s.trace_id === traceId).map((s) => s.name));
          return [
            "lead.events.v1 process",
            "lead.scored.v1 process",
            "outreach.requested.v1 process",
            "webhook.received",
            "outreach.outcome",
          ].every((n) => names.has(n));
        },
        { timeoutMs: 30_000, message: "every service's span of the journey at the collector" },
      );
      const journey = spans.filter((s) => s.trace_id === traceId);
      const named = (n: string) => journey.filter((s) => s.name === n);
      const ids = (list: Span[]) => new Set(list.map((s) => s.span_id));
      const scoring = named("lead.events.v1 process");
      const engine = named("lead.scored.v1 process");
      const dispatch = named("outreach.requested.v1 process");
      const childOf = (child: Span[], parent: Span[]) =>
        child.some((s) => ids(parent).has(s.parent_span_id ?? ""));
      const decide = named("experiment.decide");
      const send = named("outreach.send");
      expect(childOf(engine, scoring)).toBe(true);
      expect(childOf(decide, engine)).toBe(true);
      expect(childOf(dispatch, decide)).toBe(true);
      expect(childOf(send, dispatch)).toBe(true);
      // Ingest's span of the webhook starts it; the outcome, reported on its own trace, is
      // recorded under the decision and linked to the webhook that reported it.
      const webhook = named("webhook.received");
      expect(childOf(scoring, webhook)).toBe(true);
      const credited = named("outreach.outcome");
      expect(childOf(credited, decide)).toBe(true);
      const reported = spans.find(
        (s) =>
          s.name === "webhook.received" &&
          JSON.stringify(s.attributes ?? {}).includes(outcome.eventId),
      );
      expect(reported?.trace_id).not.toBe(traceId);
      expect(JSON.stringify(credited)).toContain(reported!.span_id);

      const errors = collector
        .items("event")
        .map((i) => i.payload as { fingerprint?: string[]; tags?: Record<string, string> });
      const fallback = errors.find((e) => e.fingerprint?.[1] === "stackai");
      expect(fallback?.fingerprint?.[0]).toBe("vendor");
      expect(fallback?.tags?.["lead.id"]).toBe("lf_ct_proc_1");
      const metrics = collector.items("trace_metric").flatMap((i) => {
        const p = i.payload as { items?: unknown[] };
        return (p.items ?? [p]) as {
          name?: string;
          value?: number;
          attributes?: Record<string, { value?: unknown }>;
        }[];
      });
      expect(metrics.some((m) => m.name === "pw.sends")).toBe(true);
      // The conversion: counted with the variant and segment the engine chose.
      const reward = metrics.find((m) => m.name === "pw.rewards");
      expect(reward?.value).toBe(1);
      expect(reward?.attributes?.variant?.value).toBe(request.variantId);
      expect(reward?.attributes?.segment?.value).toBe(request.segment);
      const wire = collector.envelopes.map((e) => e.raw).join("\n");
      expect(wire).not.toMatch(/grace@example\.com|Grace|Hopper/);
    } finally {
      for (const p of processes) if (p.exitCode === null) p.kill("SIGKILL");
      await bus.close();
      await db.close();
      await database.drop();
      await stackai.close();
      await collector.close();
    }
  });

  it("the gateway continues the trace a caller (the dashboard's server) sends it", {
    timeout: 120_000,
  }, async () => {
    const collector = await startSentryCollector();
    const database = await pg!.createDatabase("pw_telemetry_gw");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    const child = spawn(process.execPath, ["--import", "@pw/telemetry/instrument", "src/main.ts"], {
      cwd: join(apps, "gateway"),
      env: {
        PATH: process.env.PATH ?? "",
        PORT: "0",
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        DATABASE_URL: database.url,
        BUS_DRIVER: "kafka",
        KAFKA_BROKERS: kafka!.brokers.join(","),
        KAFKA_TOPIC_PREFIX: `${kafka!.uniqueName("telemetry-gw")}.`,
        SENTRY_DSN: collector.dsn,
        SENTRY_TRACES_SAMPLE_RATE: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    }) as ChildProcess & { output: string[] };
    child.output = [];
    children.push(child);
    let url: string | undefined;
    child.stdout!.on("data", (d: Buffer) => {
      child.output.push(d.toString());
      url ??= /"url":"(http:\/\/[^"]+)"/.exec(d.toString())?.[1];
    });
    child.stderr!.on("data", (d: Buffer) => child.output.push(d.toString()));
    try {
      await waitFor(() => url, { timeoutMs: 60_000, message: "the gateway listening" }).catch(
        (error) => {
          throw new Error(`${(error as Error).message}\n${child.output.join("")}`);
        },
      );
      const traceId = randomBytes(16).toString("hex");
      const parent = randomBytes(8).toString("hex");
      // What @sentry/nextjs adds to the route handler's fetch to the gateway.
      const res = await fetch(`${url}/healthz`, {
        headers: {
          "sentry-trace": `${traceId}-${parent}-1`,
          baggage: `sentry-trace_id=${traceId},sentry-sampled=true,sentry-sample_rate=1`,
        },
      });
      expect(res.status).toBe(200);
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
      const spans = JSON.stringify(collector.items("span").map((i) => i.payload));
      expect(spans).toContain(traceId);
      expect(spans).toContain(parent);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await db.close();
      await database.drop();
      await collector.close();
    }
  });
});
