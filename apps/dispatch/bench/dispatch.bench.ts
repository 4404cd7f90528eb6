// pnpm bench:dispatch — sends per second end to end on the real broker and PostgreSQL:
// requests on outreach.requested.v1 → dispatch (policy, caps, the agent's code in-process
// with the simulated inbox, the record) → outreach.dispatched.v1 published by the outbox
// relay; then request→dispatched latency (p50/p99) under a steady stream. Baseline in the
// same run: a bare consumer that only writes one row per request.
import os from "node:os";
import { createKafkaBus, publishEvents, subscribeTopic } from "@pw/bus";
import { createDb, migrate, queryRows } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import { ALL_TOPICS, type OutreachRequestedV1, Topics } from "@pw/events";
import { postgresFixture } from "@pw/testkit";
import { isNotNull, sql } from "drizzle-orm";
import { dispatchConfig } from "../src/config.ts";
import { sendOf } from "../src/requests.ts";
import { startDispatch } from "../src/start.ts";
import { insertSends } from "../src/store.ts";
import { request } from "../test/fixtures.ts";

const brokers = process.env.KAFKA_BROKERS?.split(",");
if (!brokers || !process.env.DATABASE_URL) {
  console.error(
    'bench:dispatch needs KAFKA_BROKERS and DATABASE_URL: eval "$(bash scripts/services.sh env)"',
  );
  process.exit(2);
}
const N = Number(process.env.BENCH_SENDS ?? 20_000);
const STREAM = Number(process.env.BENCH_STREAM ?? 5_000);
const STREAM_RATE = Number(process.env.BENCH_STREAM_RATE ?? 500);
const progress = (s: string) => process.stderr.write(`  … ${s}\n`);

/** A fixed-offset zone where it is mid-day now, so production's quiet hours let the sends go. */
function middayZone(): string {
  const offset = 12 - new Date().getUTCHours(); // local = UTC + offset
  const o = ((offset + 11 + 24) % 24) - 11; // into −11…+12
  return o === 0 ? "UTC" : `Etc/GMT${o > 0 ? "-" : "+"}${Math.abs(o)}`;
}
const zone = middayZone();
const requests = (prefix: string, n: number): OutreachRequestedV1[] =>
  Array.from({ length: n }, (_, i) =>
    request(`${prefix}-${i}`, {
      requestId: `${prefix}-req-${i}`,
      to: `buyer${i}@${prefix}-co${i}.example`,
      timeZone: zone,
    }),
  );

const pg = await postgresFixture();
const stamp = Date.now().toString(36);

async function setup(kind: string) {
  const database = await pg!.createDatabase(`pw_bench_dispatch_${kind}`);
  // Production's configuration from the parser `main` uses; a sender large enough for the
  // run (the default 5,000 e-mails a day would defer the rest — that is the cap working).
  const config = dispatchConfig({
    ...process.env,
    DATABASE_URL: database.url,
    BUS_DRIVER: "kafka",
    KAFKA_TOPIC_PREFIX: `bench-dispatch-${kind}-${stamp}.`,
    PORT: "0",
    LOG_LEVEL: "warn",
    UNSUBSCRIBE_SECRET: "bench-unsubscribe-secret-0123456789",
    DISPATCH_CHANNEL_DAILY_CAPS: `email:${10 * (N + STREAM)}`,
  });
  const handle = await createDb(config.database);
  await migrate(handle); // what `pnpm db:migrate` does before a deployment starts
  const bus = createKafkaBus({
    brokers: brokers!,
    topicPrefix: config.bus.driver === "kafka" ? config.bus.topicPrefix : "",
  });
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 6 })));
  return { database, config, handle, bus };
}

async function waitCount(what: string, count: () => Promise<number>, n: number) {
  let last = 0;
  for (;;) {
    const c = await count();
    if (c >= n) return;
    if (c - last >= n / 10) {
      progress(`${what}: ${c}/${n}`);
      last = c;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function baseline(): Promise<number> {
  const { database, handle, bus } = await setup("baseline");
  const reqs = requests("base", N);
  for (let i = 0; i < N; i += 1_000)
    await publishEvents(bus, Topics.outreachRequested, reqs.slice(i, i + 1_000));
  progress(`baseline: ${N} requests on the broker`);
  const started = performance.now();
  const sub = await subscribeTopic(bus, {
    groupId: "baseline",
    topic: Topics.outreachRequested,
    handler: async (event) => {
      const now = new Date();
      await handle.db.transaction((tx) => insertSends(tx, [sendOf(event, now)], now));
    },
    // The same batching dispatch's own consumer uses.
    batch: {
      maxSize: 500,
      handler: async (items) => {
        const now = new Date();
        await handle.db.transaction((tx) =>
          insertSends(
            tx,
            items.map((i) => sendOf(i.event, now)),
            now,
          ),
        );
      },
    },
  });
  await waitCount("baseline", () => handle.db.$count(schema.sends), N);
  const perSec = N / ((performance.now() - started) / 1000);
  await sub.close();
  await bus.close();
  await handle.close();
  await database.drop();
  return perSec;
}

async function dispatchRun() {
  const { database, config, handle, bus } = await setup("dispatch");
  const reqs = requests("bulk", N);
  for (let i = 0; i < N; i += 1_000)
    await publishEvents(bus, Topics.outreachRequested, reqs.slice(i, i + 1_000));
  progress(`dispatch: ${N} requests on the broker`);
  const published = () =>
    handle.db.$count(schema.dispatchOutbox, isNotNull(schema.dispatchOutbox.publishedAt));
  const started = performance.now();
  const running = await startDispatch(config);
  await waitCount("dispatch", published, N);
  const perSec = N / ((performance.now() - started) / 1000);
  const [states] = await queryRows<{ sent: number; other: number; inbox: number }>(
    handle.db,
    sql`select count(*) filter (where state = 'sent')::int as sent,
               count(*) filter (where state <> 'sent')::int as other,
               (select count(*)::int from agent.inbox) as inbox
        from dispatch.sends`,
  );

  // Latency: a steady stream while dispatch runs, request published → verdict consumed.
  const publishedAt = new Map<string, number>();
  const latencies: number[] = [];
  const tap = await subscribeTopic(bus, {
    groupId: "latency-tap",
    topic: Topics.outreachDispatched,
    fromBeginning: false,
    handler: async (e) => {
      const t = publishedAt.get(e.data.requestId);
      if (t !== undefined && e.data.status === "sent") latencies.push(performance.now() - t);
    },
  });
  const stream = requests("stream", STREAM);
  const batch = Math.max(1, Math.round(STREAM_RATE / 20));
  const streamStart = performance.now();
  for (let i = 0; i < STREAM; i += batch) {
    const slice = stream.slice(i, i + batch);
    const due = streamStart + (i / STREAM_RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = performance.now();
    for (const r of slice) publishedAt.set(r.data.requestId, t);
    await publishEvents(bus, Topics.outreachRequested, slice);
  }
  progress(`stream: ${STREAM} requests at ${STREAM_RATE}/s published`);
  const deadline = performance.now() + 120_000;
  while (latencies.length < STREAM && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  await tap.close();
  await running.stop();
  await bus.close();
  await handle.close();
  await database.drop();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return { perSec, states, p50: q(0.5), p99: q(0.99), measured: latencies.length };
}

const base = await baseline();
const d = await dispatchRun();
console.log(
  `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; Kafka and PostgreSQL on the same machine`,
);
console.log(
  `workload: ${N} first touches already on the broker (6 partitions, one lead and one recipient domain each, leads' zone ${zone}), one dispatch process with the production defaults, the agent in-process with the simulated inbox\n`,
);
console.log(
  `bare consumer (one row per request): ${Math.round(base).toLocaleString("en-US").padStart(8)} requests/s`,
);
console.log(
  `dispatch end to end:                 ${Math.round(d.perSec).toLocaleString("en-US").padStart(8)} sends/s   (${(d.perSec / base).toFixed(2)}× the bare consumer)`,
);
console.log(
  `  verdicts: ${d.states?.sent} sent, ${d.states?.other} other; ${d.states?.inbox} messages in the simulated inbox`,
);
console.log(
  `latency request → dispatched, ${STREAM} requests at ${STREAM_RATE}/s: p50 ${d.p50.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms (${d.measured} measured)`,
);
console.log(`target ≥ 1,000 sends/s → ${d.perSec >= 1_000 ? "met" : "MISSED"}`);
process.exit(0);
