// Exactly once under crashes, on a real broker and PostgreSQL with a real SMTP server:
// dispatch SIGKILLed after the agent accepted a send and before it recorded it sends no
// second mail when it comes back; two dispatch instances working the same timers send
// every step once.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createKafkaBus } from "@pw/bus";
import { createDb, queryRows } from "@pw/db";
import { Topics } from "@pw/events";
import { agentConfig, startOutreachAgent } from "@pw/outreach-agent";
import { startSmtpServer, type TestSmtpServer } from "@pw/outreach-agent/test-servers";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followUp, request } from "../test/fixtures.ts";
import { type Harness, harness } from "../test/harness.ts";
import { dispatchConfig } from "./config.ts";
import { startDispatch } from "./start.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const JWT_SECRET = "crash-jwt-secret-0123456789-abcdefghijk";
const UNSUBSCRIBE_SECRET = "crash-unsubscribe-secret-0123";
const MAIN = join(import.meta.dirname, "main.ts");

describe.runIf(kafka && pg)("dispatch under crashes", () => {
  let h: Harness;
  let smtp: TestSmtpServer;
  let agent: Awaited<ReturnType<typeof startOutreachAgent>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    h = await harness(kafka!, pg!, "dsp_crash");
    smtp = await startSmtpServer();
    agent = await startOutreachAgent(
      agentConfig({
        PORT: "0",
        SMTP_URL: smtp.url,
        SMTP_FROM: "Sales <sales@pipeline.example>",
        AGENT_JWT_SECRET: JWT_SECRET,
        ALLOW_INSECURE_VENDOR_URLS: "1",
      }),
      { db: h.db, logger: h.logger },
    );
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await agent?.stop();
    await smtp?.close();
    await h?.close();
  });

  function dispatchProcess(): ChildProcess & { output: string[] } {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: "0",
        LOG_LEVEL: "info",
        DATABASE_URL: h.database.url,
        BUS_DRIVER: "kafka",
        KAFKA_BROKERS: kafka!.brokers.join(","),
        KAFKA_TOPIC_PREFIX: h.prefix,
        TRUEFOUNDRY_AGENT_URL: agent.url!,
        TRUEFOUNDRY_AGENT_JWT_SECRET: JWT_SECRET,
        ALLOW_INSECURE_VENDOR_URLS: "1",
        UNSUBSCRIBE_SECRET,
        DISPATCH_QUIET_HOURS: "off",
        DISPATCH_SEND_LEASE_MS: "1500",
        DISPATCH_POLL_MS: "100",
      },
      stdio: ["ignore", "pipe", "pipe"],
    }) as ChildProcess & { output: string[] };
    child.output = [];
    child.stdout!.on("data", (d: Buffer) => child.output.push(d.toString()));
    child.stderr!.on("data", (d: Buffer) => child.output.push(d.toString()));
    children.push(child);
    return child;
  }

  it("sends no second mail when dispatch dies between the agent's acceptance and the record", async () => {
    const first = dispatchProcess();
    // The SMTP server holds the mail until dispatch is dead: the agent then completes the
    // delivery and answers a caller that no longer exists.
    smtp.onData = async () => {
      first.kill("SIGKILL");
      if (first.exitCode === null && first.signalCode === null) await once(first, "exit");
    };
    const r = request("lead-crash", { to: "kim@crash.example" });
    await h.publish(Topics.outreachRequested, [r]);
    await smtp.waitForMail((m) => m.envelope.to.includes("kim@crash.example"), 60_000);
    smtp.onData = undefined;
    expect(first.signalCode).toBe("SIGKILL");
    const [row] = await queryRows<{ state: string }>(
      h.db.db,
      sql`select state from dispatch.sends where request_id = ${r.data.requestId}`,
    );
    expect(row?.state).toBe("sending"); // the verdict was never recorded

    const second = dispatchProcess();
    const sent = await h.verdict(r.data.requestId, "sent", 0, 60_000).catch((error) => {
      second.kill("SIGKILL");
      throw new Error(`${error.message}\n--- restarted dispatch said:\n${second.output.join("")}`);
    });
    const mails = smtp.mails.filter((m) => m.envelope.to.includes("kim@crash.example"));
    expect(mails).toHaveLength(1);
    expect(sent.data.provider.messageId).toBe(mails[0]!.messageId);
    expect(sent.data.attempt).toBe(2);
    second.kill("SIGTERM");
    await once(second, "exit");
  });

  it("sends every step once with two instances working the same timers", async () => {
    const config = dispatchConfig({
      PORT: "0",
      TRUEFOUNDRY_AGENT_URL: agent.url!,
      TRUEFOUNDRY_AGENT_JWT_SECRET: JWT_SECRET,
      ALLOW_INSECURE_VENDOR_URLS: "1",
      UNSUBSCRIBE_SECRET,
      DISPATCH_QUIET_HOURS: "off",
      DISPATCH_LEAD_MIN_GAP_HOURS: "0",
      DISPATCH_POLL_MS: "20",
      DISPATCH_BATCH: "10",
    });
    // Each instance with its own database pool and broker connection, as two processes would.
    const busB = createKafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: h.prefix,
      sessionTimeout: 10_000,
    });
    const dbB = await createDb({ driver: "pg", url: h.database.url });
    const a = await startDispatch(config, {
      db: h.db,
      bus: h.bus,
      listen: false,
      logger: h.logger,
    });
    const b = await startDispatch(config, { db: dbB, bus: busB, listen: false, logger: h.logger });
    try {
      const leads = Array.from({ length: 60 }, (_, i) => `lead-pair-${i}`);
      const reqs = leads.map((l) =>
        request(l, {
          to: `${l}@${l}.pair.example`,
          followUps: [followUp(1, 0, l), followUp(2, 0, l)],
        }),
      );
      const before = smtp.mails.length;
      await h.publish(Topics.outreachRequested, reqs);
      await waitFor(
        () =>
          reqs.every((r) =>
            [0, 1, 2].every((step) =>
              h
                .of(r.data.requestId)
                .some((v) => v.data.status === "sent" && v.data.cadenceStep === step),
            ),
          ),
        { timeoutMs: 90_000, intervalMs: 100, message: "180 steps sent" },
      ).catch(async (error) => {
        const states = await queryRows(
          h.db.db,
          sql`select state, step, reason, count(*)::int as n from dispatch.sends where lead_id like 'lead-pair-%' group by 1, 2, 3`,
        );
        throw new Error(
          `${error.message}; sends: ${JSON.stringify(states)}; verdicts: ${h.verdicts.length}`,
        );
      });
      const mails = smtp.mails
        .slice(before)
        .filter((m) => m.envelope.to[0]?.endsWith(".pair.example"));
      expect(mails).toHaveLength(180);
      expect(new Set(mails.map((m) => m.messageId)).size).toBe(180);
      const rounds = await Promise.all(
        [a, b].map(
          async (s) =>
            /pw_dispatch_sends_total\{[^}]*status="sent"[^}]*\} (\d+)/.exec(
              await s.metrics.registry.metrics(),
            )?.[1],
        ),
      );
      console.info(`sends recorded by each instance: ${rounds.join(" / ")}`);
    } finally {
      await a.stop();
      await b.stop();
      await busB.close();
      await dbB.close();
    }
  });
});
