// Sentry as a service process runs it: `node --import @pw/telemetry/instrument`, the DSN
// pointed at a local collector that speaks Sentry's envelope endpoint. What arrives is
// every kind of item the services send (error events, spans, logs, metrics) — and not one
// e-mail address, name or reply text, whatever the code tried to send (the raw envelopes
// are grepped). Without a DSN, nothing is initialised and nothing is sent.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SentryCollector, startSentryCollector } from "./collector.ts";

const instrument = join(import.meta.dirname, "instrument.ts");
const loggerModule = join(import.meta.dirname, "../../logger/src/index.ts");

/** What a careless service might do: personal data in every place Sentry reads. */
const SCRIPT = `
import * as Sentry from "@sentry/node";
await Sentry.startSpan(
  { name: "scoring.score", op: "queue.process", attributes: { "lead.id": "lf_1", "lead.email": "ada@example.com", segment: "exec-mid" } },
  async () => {
    Sentry.addBreadcrumb({ message: "reply from ada@example.com", data: { replyText: "Yes, Ada here" } });
    Sentry.captureException(new Error("stackAI failed for ada@example.com"), {
      tags: { "lead.id": "lf_1" },
      fingerprint: ["vendor", "stackai", "http_500"],
      extra: { firstName: "Ada", body: "Hi Ada, ..." },
      user: { id: "lf_1", email: "ada@example.com" },
    });
    Sentry.logger.info("sent to ada@example.com", { "lead.id": "lf_1", email: "ada@example.com" });
    Sentry.metrics.count("pw.conversions", 1, { attributes: { variant: "roi", segment: "exec-mid", email: "ada@example.com" } });
  },
);
// A service's own log line (pino) reaches Sentry's logs too, scrubbed.
const { createLogger } = await import(${JSON.stringify(loggerModule)});
createLogger({ service: "t", pretty: false }).warn(
  { leadId: "lf_1", email: "ada@example.com" },
  "bounce for ada@example.com",
);
await Sentry.flush(10_000);
console.log(JSON.stringify({ enabled: Sentry.getClient() !== undefined }));
`;

/** The script's verdict: its `enabled` line (the service's own log lines are around it). */
const lastLine = (out: string) =>
  out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => "enabled" in l);

const spansModule = join(import.meta.dirname, "spans.ts");

/** Two journeys arriving with their sampling decided upstream: one kept, one not. */
const JOURNEYS = `
import * as Sentry from "@sentry/node";
const { startEventSpan } = await import(${JSON.stringify(spansModule)});
const out = {};
for (const [name, trace, flag] of [["kept", "a".repeat(32), "01"], ["dropped", "b".repeat(32), "00"]]) {
  const first = startEventSpan({ name: "journey." + name, op: "test", traceparent: "00-" + trace + "-1111111111111111-" + flag, attributes: {} });
  const next = startEventSpan({ name: "journey." + name + ".next", op: "test", traceparent: first.traceparent, attributes: {} });
  next.end();
  first.end();
  out[name] = [first.traceparent, next.traceparent];
}
// New journeys: drawn at the service's rate, and every kept one really sent.
out.roots = [];
for (let i = 0; i < 1000; i++) {
  const root = startEventSpan({ name: "journey.root", op: "test", traceparent: undefined, attributes: {} });
  root.end();
  out.roots.push(root.traceparent);
}
await Sentry.flush(10_000);
console.log(JSON.stringify({ enabled: true, out }));
`;

function run(
  env: Record<string, string>,
  script = SCRIPT,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", instrument, "--input-type=module", "-e", script],
      {
        cwd: import.meta.dirname,
        env: { PATH: process.env.PATH ?? "", ...env },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("Sentry in a service process", () => {
  let collector: SentryCollector;
  beforeAll(async () => {
    collector = await startSentryCollector();
  });
  afterAll(() => collector.close());

  it("sends errors, spans, logs and metrics, with nothing personal in them", {
    timeout: 60_000,
  }, async () => {
    const r = await run({
      SENTRY_DSN: collector.dsn,
      SENTRY_TRACES_SAMPLE_RATE: "1",
      SENTRY_ENVIRONMENT: "test",
      SENTRY_RELEASE: "pw@test",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(lastLine(r.stdout)).toEqual({ enabled: true });
    const [error] = collector
      .items("event")
      .map((i) => i.payload as { exception: { values: { value: string }[] } });
    expect(error).toMatchObject({
      environment: "test",
      release: "pw@test",
      fingerprint: ["vendor", "stackai", "http_500"],
      tags: { "lead.id": "lf_1" },
      user: { id: "lf_1" },
    });
    expect(error!.exception.values[0]!.value).toBe("stackAI failed for [email]");
    const spans = JSON.stringify(collector.items("span").map((i) => i.payload));
    expect(spans).toContain("scoring.score");
    expect(spans).toContain("lf_1");
    const logs = JSON.stringify(collector.items("log").map((i) => i.payload));
    expect(logs).toContain("sent to [email]");
    // The pino line, forwarded: its message and the lead's id, the address masked.
    expect(logs).toContain("bounce for [email]");
    expect(logs).toContain("lf_1");
    expect(collector.items("trace_metric").length).toBeGreaterThan(0);
    expect(JSON.stringify(collector.items("trace_metric").map((i) => i.payload))).toContain(
      "pw.conversions",
    );
    // The whole wire, every envelope as it arrived: no address, no name, no reply.
    const wire = collector.envelopes.map((e) => e.raw).join("\n");
    expect(wire).not.toMatch(/ada@example\.com|Ada|Lovelace|Yes, Ada here|Hi Ada/);
  });

  it("keeps or drops a journey whole: the sampling decided where it started holds in every service", {
    timeout: 60_000,
  }, async () => {
    // The default rate (0.01) here: the upstream decision, not this service's rate, rules.
    const r = await run({ SENTRY_DSN: collector.dsn }, JOURNEYS);
    expect(r.code, r.stderr).toBe(0);
    const { out } = lastLine(r.stdout) as { out: Record<string, string[]> };
    expect(out.kept!.every((t) => t.endsWith("-01"))).toBe(true);
    expect(out.dropped!.every((t) => t.endsWith("-00"))).toBe(true);
    const spans = JSON.stringify(collector.items("span").map((i) => i.payload));
    expect(spans).toContain("journey.kept.next");
    expect(spans).toContain("a".repeat(32));
    expect(spans).not.toContain("journey.dropped");
    // 1,000 new journeys at 0.01: about ten kept (none, or 30 or more, is a 1-in-10^4
    // chance at worst), and what reached Sentry is exactly the kept ones.
    const kept = out.roots!.filter((t) => t.endsWith("-01")).map((t) => t.split("-")[1]);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(30);
    const rootTraces = new Set(
      collector
        .items("span")
        .flatMap((i) => (i.payload as { items?: { name: string; trace_id: string }[] }).items ?? [])
        .filter((x) => x.name === "journey.root")
        .map((x) => x.trace_id),
    );
    expect([...rootTraces].sort()).toEqual([...kept].sort());
  });

  it("without SENTRY_DSN initialises nothing and sends nothing", { timeout: 60_000 }, async () => {
    const before = collector.envelopes.length;
    const r = await run({});
    expect(r.code, r.stderr).toBe(0);
    expect(lastLine(r.stdout)).toEqual({ enabled: false });
    expect(collector.envelopes.length).toBe(before);
  });

  it("refuses a bad sample rate at start, naming the variable", { timeout: 60_000 }, async () => {
    const r = await run({ SENTRY_DSN: collector.dsn, SENTRY_TRACES_SAMPLE_RATE: "2" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('telemetry: SENTRY_TRACES_SAMPLE_RATE: "2" is not a number in [0, 1]\n');
  });
});
