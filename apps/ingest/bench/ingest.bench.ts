// pnpm bench:ingest — load from this process (autocannon) on loopback against the
// ingest service running in a child process with the real Kafka broker and
// PostgreSQL, signed 1 KB bodies; and, in the same run, the same load against a
// bare Fastify route answering 202, as the baseline. Prints figures, ratios and
// the machine. Needs KAFKA_BROKERS and DATABASE_URL (scripts/services.sh up).
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:net";
import os from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { Kafka, logLevel } from "kafkajs";

const brokers = process.env.KAFKA_BROKERS;
const databaseUrl = process.env.DATABASE_URL;
if (!brokers || !databaseUrl) {
  console.error(
    'bench:ingest needs KAFKA_BROKERS and DATABASE_URL: eval "$(bash scripts/services.sh env)"',
  );
  process.exit(2);
}
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 5_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const run = Date.now().toString(36);
const secretBytes = randomBytes(32);
const secret = `whsec_${secretBytes.toString("base64")}`;
const prefix = `bench-${run}.`;
const progress = (s: string) => process.stderr.write(`  … ${s}\n`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startChild(
  script: string,
  port: number,
  env: Record<string, string>,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : []),
      script,
    ],
    {
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return child;
    if (Date.now() > deadline) throw new Error(`${script} did not answer /healthz in 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A sender's signed requests: unique webhook-id each, fresh timestamp, ~1 KB body.
let seq = 0;
const pad = randomBytes(700).toString("base64").slice(0, 760);
function signedRequest() {
  const i = seq++;
  const id = `msg_${run}_${i}`;
  const ts = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({
    type: "page_viewed",
    occurredAt: new Date().toISOString(),
    leadId: `bench-lead-${i % 5000}`,
    url: "https://acme.io/pricing",
    properties: { utm: "bench", pad },
  });
  const sig = createHmac("sha256", secretBytes).update(`${id}.${ts}.${body}`).digest("base64");
  return {
    method: "POST" as const,
    path: "/webhooks/signals",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(ts),
      "webhook-signature": `v1,${sig}`,
    },
    body,
  };
}

type Load = {
  okPerSec: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  requests: number;
};

async function load(port: number, opts: { rate?: number; label: string }): Promise<Load> {
  progress(`${opts.label}: ${DURATION}s ${opts.rate ? `at ${opts.rate}/s` : "flat out"}`);
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
    requests: [{ setupRequest: () => signedRequest() }],
  });
  const result = await instance;
  const ok = result["2xx"];
  return {
    okPerSec: ok / DURATION,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
  };
}

async function topicCount(topic: string): Promise<number> {
  const admin = new Kafka({
    clientId: "bench-count",
    brokers: brokers!.split(","),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}

console.error(
  `bench:ingest — ${DURATION}s phases, ${CONNECTIONS} connections, fixed rate ${RATE}/s, topic prefix ${prefix}`,
);
// A fresh database per run: receipts from earlier runs must not change the figures.
const { postgresFixture } = await import("@pw/testkit");
const pg = await postgresFixture();
const database = await pg!.createDatabase("pw_bench_ingest");
// What `pnpm db:migrate` does before a deployment starts: services refuse a stale schema.
{
  const { createDb, migrate } = await import("@pw/db");
  const handle = await createDb({ driver: "pg", url: database.url });
  await migrate(handle);
  await handle.close();
}
const ingestPort = await freePort();
const ingest = await startChild(join(import.meta.dirname, "../src/main.ts"), ingestPort, {
  BUS_DRIVER: "kafka",
  KAFKA_BROKERS: brokers,
  KAFKA_TOPIC_PREFIX: prefix,
  DATABASE_URL: database.url,
  WEBHOOK_SECRET: secret,
  INGEST_RATE_LIMIT: "1000000",
  LOG_LEVEL: "warn",
});
// Warm-up: JIT, connection pools, producer metadata.
const ingestWarm = await load(ingestPort, { rate: 1_000, label: "ingest warm-up" });
const ingestMax = await load(ingestPort, { label: "ingest max throughput" });
const ingestFixed = await load(ingestPort, { rate: RATE, label: "ingest at fixed rate" });
ingest.kill("SIGTERM");
await once(ingest, "exit");
const onTopic = await topicCount(`${prefix}lead.events.v1`);

const barePort = await freePort();
const bare = await startChild(join(import.meta.dirname, "bare-server.ts"), barePort, {});
await load(barePort, { rate: 1_000, label: "bare warm-up" });
const bareMax = await load(barePort, { label: "bare Fastify max throughput" });
const bareFixed = await load(barePort, { rate: RATE, label: "bare Fastify at fixed rate" });
bare.kill("SIGTERM");
await database.drop().catch(() => {});

const accepted = Math.round(
  (ingestWarm.okPerSec + ingestMax.okPerSec + ingestFixed.okPerSec) * DURATION,
);
const row = (name: string, max: Load, fixed: Load) =>
  `${name.padEnd(22)}${Math.round(max.okPerSec).toLocaleString("en-US").padStart(12)}${String(max.non2xx + max.errors).padStart(10)}${`${fixed.p50} ms`.padStart(10)}${`${fixed.p99} ms`.padStart(10)}${Math.round(fixed.okPerSec).toLocaleString("en-US").padStart(12)}`;
console.log(
  `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; Kafka broker and PostgreSQL on the same machine`,
);
console.log(
  `load: autocannon in a separate process, ${CONNECTIONS} connections, signed ~1 KB bodies, unique webhook-ids; ${DURATION}s per phase\n`,
);
console.log(
  `${"".padEnd(22)}${"accepted/s".padStart(12)}${"non-2xx".padStart(10)}${"p50@rate".padStart(10)}${"p99@rate".padStart(10)}${"2xx/s@rate".padStart(12)}`,
);
console.log(row("ingest (Kafka + PG)", ingestMax, ingestFixed));
console.log(row("bare Fastify 202", bareMax, bareFixed));
console.log(
  `\ningest ÷ bare throughput: ${(ingestMax.okPerSec / bareMax.okPerSec).toFixed(2)}; p99 at ${RATE}/s: ingest ${ingestFixed.p99} ms vs bare ${bareFixed.p99} ms`,
);
// autocannon drops the requests still in flight when a phase ends (≤ connections per
// phase) from its counts; the server did accept and publish them.
const slack = onTopic - accepted;
console.log(
  `events on the topic: ${onTopic.toLocaleString("en-US")} for ${accepted.toLocaleString("en-US")} counted 2xx answers (warm-up included); ` +
    `difference ${slack} ${slack >= 0 && slack <= CONNECTIONS * 3 ? `(within the ≤ ${CONNECTIONS * 3} requests in flight at phase ends)` : "— UNEXPECTED"}`,
);
console.log(
  `targets: ≥ 10,000 accepted/s → ${ingestMax.okPerSec >= 10_000 ? "met" : "MISSED"}; p99 ≤ 25 ms at ${RATE}/s → ${ingestFixed.p99 <= 25 ? "met" : "MISSED"}`,
);
process.exit(0);
