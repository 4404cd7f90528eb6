// pnpm bench:bus — produce and consume throughput (1 KB events) and produce-ack
// latency for the in-process bus, the Kafka bus and raw kafkajs on the same
// broker, in the same run, alternating rounds; prints figures, ratios to raw
// kafkajs and the machine. Needs KAFKA_BROKERS (scripts/services.sh up).
import { randomBytes } from "node:crypto";
import os from "node:os";
import { Kafka, logLevel } from "kafkajs";
import { createKafkaBus } from "../src/kafka.ts";
import { createMemoryBus } from "../src/memory.ts";
import type { Bus, OutgoingMessage } from "../src/types.ts";

const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 500;
const LAT_MESSAGES = Number(process.env.BENCH_LATENCY_MESSAGES ?? 3_000);
const LAT_CONCURRENCY = 32;
const run = Date.now().toString(36);

function payload(i: number): OutgoingMessage {
  const body = {
    specversion: "1.0",
    id: `e-${i}`,
    type: "lead.intent_signal.v1",
    subject: `lead-${i % 1000}`,
    pad: "",
  };
  const base = JSON.stringify(body).length;
  body.pad = randomBytes(1024)
    .toString("base64")
    .slice(0, 1024 - base);
  return { key: body.subject, value: JSON.stringify(body), headers: { "ce-type": body.type } };
}
const messages = Array.from({ length: N }, (_, i) => payload(i));
const progress = (s: string) => process.stderr.write(`  … ${s}\n`);

type Figures = { produce: number; consume: number; p50: number; p99: number };

function pct(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(send: (m: OutgoingMessage) => Promise<void>) {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: LAT_CONCURRENCY }, async () => {
      while (next < LAT_MESSAGES) {
        const m = messages[next++ % N]!;
        const t0 = performance.now();
        await send(m);
        lat.push(performance.now() - t0);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function benchBus(name: string, bus: Bus, round: number): Promise<Figures> {
  const topic = `bench-${name}-${run}-${round}`;
  await bus.ensureTopics([{ name: topic, partitions: 6 }]);
  let t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) await bus.publish(topic, messages.slice(i, i + BATCH));
  const produce = N / ((performance.now() - t0) / 1000);
  progress(`${name} round ${round}: produced ${N}`);

  let count = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  t0 = performance.now();
  const sub = await bus.subscribe({
    groupId: `bench-${name}-${run}-${round}`,
    topic,
    decode: (v) => v,
    handler: async () => {
      if (++count === N) done();
    },
  });
  await finished;
  const consume = N / ((performance.now() - t0) / 1000);
  await sub.close();
  progress(`${name} round ${round}: consumed ${N}`);
  const lat = await latency((m) => bus.publish(topic, [m]));
  return { produce, consume, ...lat };
}

async function benchRaw(round: number): Promise<Figures> {
  const kafka = new Kafka({ clientId: "bench-raw", brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-raw-${run}-${round}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
  });
  await admin.disconnect();
  // Same guarantees as the bus: idempotent, acks=all.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  let t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + BATCH) });
  }
  const produce = N / ((performance.now() - t0) / 1000);
  progress(`raw kafkajs round ${round}: produced ${N}`);

  const consumer = kafka.consumer({ groupId: `bench-raw-${run}-${round}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  t0 = performance.now();
  // The equivalent work a hand-written consumer does: parse, resolve, commit per batch.
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) {
        JSON.parse(m.value!.toString());
        resolveOffset(m.offset);
        await heartbeat();
        if (++count === N) done();
      }
    },
  });
  await finished;
  const consume = N / ((performance.now() - t0) / 1000);
  await consumer.disconnect();
  progress(`raw kafkajs round ${round}: consumed ${N}`);
  const lat = await latency((m) =>
    producer.send({ topic, acks: -1, messages: [m] }).then(() => {}),
  );
  await producer.disconnect();
  return { produce, consume, ...lat };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.error(
  `bench:bus — ${N} × 1 KB messages, ${ROUNDS} alternating rounds, brokers ${brokers.join(",")}`,
);
const results: Record<string, Figures[]> = {
  "raw kafkajs": [],
  "bus (kafka)": [],
  "bus (memory)": [],
};
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate which goes first so that broker warm-up and page-cache effects do not
  // always favour the same contender.
  const runKafkaBus = async () => {
    const kbus = createKafkaBus({ brokers, clientId: "bench-bus" });
    results["bus (kafka)"]!.push(await benchBus("kafka", kbus, round));
    await kbus.close();
  };
  if (round % 2 === 1) {
    results["raw kafkajs"]!.push(await benchRaw(round));
    await runKafkaBus();
  } else {
    await runKafkaBus();
    results["raw kafkajs"]!.push(await benchRaw(round));
  }
  const mbus = createMemoryBus();
  results["bus (memory)"]!.push(await benchBus("memory", mbus, round));
  await mbus.close();
}

const summary = Object.fromEntries(
  Object.entries(results).map(([k, rs]) => [
    k,
    {
      produce: median(rs.map((r) => r.produce)),
      consume: median(rs.map((r) => r.consume)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
    },
  ]),
);
const raw = summary["raw kafkajs"]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(10);
const ms = (n: number) => `${n.toFixed(2)} ms`.padStart(10);
console.log(
  `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`,
);
console.log(
  `workload: ${N} messages × 1 KB, publish batches of ${BATCH}; latency: ${LAT_MESSAGES} single-message publishes, ${LAT_CONCURRENCY} concurrent; medians of ${ROUNDS} rounds\n`,
);
console.log(
  `${"".padEnd(14)}${"produce/s".padStart(10)}${"consume/s".padStart(10)}${"ack p50".padStart(10)}${"ack p99".padStart(10)}  produce÷raw  consume÷raw`,
);
for (const [k, f] of Object.entries(summary)) {
  console.log(
    `${k.padEnd(14)}${fmt(f.produce)}${fmt(f.consume)}${ms(f.p50)}${ms(f.p99)}  ${(f.produce / raw.produce).toFixed(2).padStart(11)}  ${(f.consume / raw.consume).toFixed(2).padStart(11)}`,
  );
}
const kb = summary["bus (kafka)"]!;
const overhead = Math.max(1 - kb.produce / raw.produce, 1 - kb.consume / raw.consume);
console.log(
  `\nbus overhead vs raw kafkajs: produce ${((1 - kb.produce / raw.produce) * 100).toFixed(1)}%, consume ${((1 - kb.consume / raw.consume) * 100).toFixed(1)}% (target ≤ 15%: ${overhead <= 0.15 ? "met" : "MISSED"})`,
);
