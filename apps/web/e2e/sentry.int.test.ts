// @sentry/nextjs on the dashboard's server, its trace continued by the gateway: the
// production build (`next start`) and the gateway (`node --import @pw/telemetry/instrument`,
// as deployed) each send to a local collector that speaks Sentry's envelope endpoint. A
// request to the dashboard's API proxy is one trace: the gateway's span of it is a child of
// the dashboard's, and the operator's sign-in name never reaches Sentry.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createDb, migrate } from "@pw/db";
import { startSentryCollector } from "@pw/telemetry/test-collector";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { ensureBuilt, startWeb, WEB_DIR } from "./harness.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();

type Span = { trace_id: string; span_id: string; parent_span_id?: string; name: string };

describe.runIf(kafka && pg)("Sentry from the dashboard into the gateway", () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  });

  it("one trace from the dashboard's server to the gateway", { timeout: 300_000 }, async () => {
    await ensureBuilt();
    const collector = await startSentryCollector();
    const database = await pg!.createDatabase("pw_web_sentry");
    const db = await createDb({ driver: "pg", url: database.url });
    await migrate(db);
    const gateway = spawn(
      process.execPath,
      ["--import", "@pw/telemetry/instrument", "src/main.ts"],
      {
        cwd: join(WEB_DIR, "../gateway"),
        env: {
          PATH: process.env.PATH ?? "",
          NODE_ENV: "production",
          PORT: "0",
          HOST: "127.0.0.1",
          LOG_LEVEL: "info",
          DATABASE_URL: database.url,
          BUS_DRIVER: "kafka",
          KAFKA_BROKERS: kafka!.brokers.join(","),
          KAFKA_TOPIC_PREFIX: `${kafka!.uniqueName("web-sentry")}.`,
          SENTRY_DSN: collector.dsn,
          SENTRY_TRACES_SAMPLE_RATE: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    children.push(gateway);
    const output: string[] = [];
    gateway.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
    gateway.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
    let web: Awaited<ReturnType<typeof startWeb>> | undefined;
    try {
      const gatewayUrl = await waitFor(
        () => output.map((l) => /"url":"(http:\/\/[^"]+)"/.exec(l)?.[1]).find(Boolean),
        { timeoutMs: 60_000, message: "the gateway listening" },
      ).catch((error) => {
        throw new Error(`${(error as Error).message}\n${output.join("")}`);
      });
      web = await startWeb({
        gatewayUrl: gatewayUrl!,
        env: { SENTRY_DSN: collector.dsn, SENTRY_TRACES_SAMPLE_RATE: "1" },
      });
      // A sign-in through the dashboard's proxy (refused: no such operator).
      const res = await fetch(`${web.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "grace.hopper", password: "not the password" }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const spans = () => {
        const found: Span[] = [];
        const visit = (v: unknown) => {
          if (Array.isArray(v)) for (const x of v) visit(x);
          else if (v && typeof v === "object") {
            const o = v as Record<string, unknown>;
            if (typeof o.trace_id === "string" && typeof o.span_id === "string")
              found.push(o as unknown as Span);
            for (const x of Object.values(o)) visit(x);
          }
        };
        for (const e of collector.envelopes) for (const item of e.items) visit(item.payload);
        return found;
      };
      // The gateway flushes as it stops; the dashboard sends its spans as they end.
      gateway.kill("SIGTERM");
      if (gateway.exitCode === null) await once(gateway, "exit");
      // The gateway's span continues the dashboard's: its trace is one the dashboard's
      // server sent (the route handler proxying the request), its parent a span there.
      const fromDashboard = (traceId: string) =>
        collector.envelopes.some(
          (e) => e.raw.includes("sentry.javascript.nextjs") && e.raw.includes(traceId),
        );
      const joined = await waitFor(
        () =>
          spans().find(
            (s) =>
              /login/.test(s.name) &&
              s.parent_span_id !== undefined &&
              collector.envelopes.some(
                (e) => e.raw.includes("sentry.javascript.node") && e.raw.includes(s.span_id),
              ) &&
              fromDashboard(s.trace_id),
          ),
        { timeoutMs: 30_000, message: "a gateway span in the dashboard's trace" },
      ).catch((error) => {
        throw new Error(
          `${(error as Error).message}\n${collector.envelopes.map((e) => e.raw.slice(0, 300)).join("\n")}`,
        );
      });
      expect(joined!.trace_id).toMatch(/^[0-9a-f]{32}$/);
      const wire = collector.envelopes.map((e) => e.raw).join("\n");
      expect(wire).not.toContain("grace.hopper");
      expect(wire).not.toContain("not the password");
    } finally {
      await web?.stop();
      if (gateway.exitCode === null) gateway.kill("SIGKILL");
      await db.close();
      await database.drop();
      await collector.close();
    }
  });
});
