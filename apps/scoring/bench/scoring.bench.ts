// pnpm bench:scoring — leads scored per second end to end (events on the broker →
// scoring consumers → state in PostgreSQL → lead.scored.v1 published by the
// outbox relay), and the built-in model's own cost per lead. Baselines in the
// same run: a minimal transactional consumer (inbox row only) over the same
// events, and JSON.parse of the event for the model's cost. A third run mixes in
// a stream of outreach outcomes and settlements (labels) for the same leads: outcome
// handling must not serialise on the model, so the leads/s hold (ADR 0017).
import os from "node:os";
import { createKafkaBus, publishEvents, subscribeTopic } from "@pw/bus";
import { createDb, markProcessed, migrate } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { ALL_TOPICS, Topics } from "@pw/events";
import { postgresFixture } from "@pw/testkit";
import { and, eq, isNotNull, like } from "drizzle-orm";
import { scoringConfig } from "../src/config.ts";
import { INITIAL_WEIGHTS, scoreFeatures } from "../src/model/builtin.ts";
import { extractFeatures } from "../src/model/features.ts";
import { startScoring } from "../src/start.ts";
import { crmEvent, outcomeEvent, settledEvent } from "../test/fixtures.ts";

const brokers = process.env.KAFKA_BROKERS?.split(",");
if (!brokers || !process.env.DATABASE_URL) {
  console.error(
    'bench:scoring needs KAFKA_BROKERS and DATABASE_URL: eval "$(bash scripts/services.sh env)"',
  );
  process.exit(2);
}
const N = Number(process.env.BENCH_LEADS ?? 20_000);
const progress = (s: string) => process.stderr.write(`  … ${s}\n`);
const titles = ["VP Sales", "Engineer", "CTO", "Director of Ops", "Marketing Manager", "Intern"];
const industries = ["SaaS", "Fintech", "Retail", "Healthcare", "Food"];
const profile = (i: number) => ({
  firstName: `F${i}`,
  title: titles[i % titles.length],
  industry: industries[i % industries.length],
  employees: 10 + ((i * 37) % 5000),
  email: `p${i}@acme${i % 97}.io`,
});

// 1. The model alone.
const at = new Date();
const events = Array.from({ length: N }, (_, i) =>
  crmEvent(`lead-${i}`, at.toISOString(), profile(i), `bench-lead-${i}`),
);
// The mixed stream: one outcome per 4 leads (opens, clicks, meetings, conversions,
// unsubscribes) and one settlement per 4 leads (a label, rewarded 1 time in 10).
const kinds = ["opened", "clicked", "meeting_booked", "converted", "unsubscribed"];
const outcomes = Array.from({ length: Math.floor(N / 4) }, (_, k) =>
  outcomeEvent(`lead-${k * 4}`, kinds[k % kinds.length]!, at.toISOString()),
);
const settlements = Array.from({ length: Math.floor(N / 4) }, (_, k) =>
  settledEvent(`lead-${k * 4 + 2}`, undefined, k % 10 === 0, new Date().toISOString()),
);
const jsons = events.map((e) => JSON.stringify(e));
let t0 = performance.now();
for (const j of jsons) JSON.parse(j);
const parseUs = ((performance.now() - t0) * 1000) / N;
t0 = performance.now();
let sink = 0;
for (let i = 0; i < N; i++) {
  const f = extractFeatures({
    profile: profile(i),
    signals: [{ kind: "pricing_viewed", occurredAt: at }],
    engagement: {},
    now: at,
  });
  sink += scoreFeatures(f, INITIAL_WEIGHTS).score;
}
const modelUs = ((performance.now() - t0) * 1000) / N;
progress(`model: ${modelUs.toFixed(2)} µs/lead (checksum ${Math.round(sink)})`);

// 2. End to end, against a baseline consumer doing only its transaction + inbox row.
const pg = await postgresFixture();
let mixedDone = 0;
let mixedAllSeconds = 0;
async function endToEnd(kind: "scoring" | "baseline" | "mixed"): Promise<number> {
  const database = await pg!.createDatabase(`pw_bench_${kind}`);
  // Production's configuration, from the same parser `main` uses; only where it runs differs.
  const config = scoringConfig({
    ...process.env,
    DATABASE_URL: database.url,
    BUS_DRIVER: "kafka",
    KAFKA_TOPIC_PREFIX: `bench-scoring-${kind}-${Date.now().toString(36)}.`,
    PORT: "0",
    LOG_LEVEL: "warn",
  });
  const handle = await createDb(config.database);
  await migrate(handle); // what `pnpm db:migrate` does before a deployment starts
  const bus = createKafkaBus({
    brokers: brokers!,
    topicPrefix: config.bus.driver === "kafka" ? config.bus.topicPrefix : "",
  });
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name, partitions: 6 })));
  for (let i = 0; i < N; i += 1_000)
    await publishEvents(bus, Topics.leadEvents, events.slice(i, i + 1_000));
  if (kind === "mixed") {
    await publishEvents(bus, Topics.outreachOutcomes, outcomes);
    await publishEvents(bus, Topics.outreachSettlements, settlements);
  }
  progress(
    `${kind}: ${N} lead events${kind === "mixed" ? ` + ${outcomes.length} outcomes + ${settlements.length} settlements` : ""} on the broker`,
  );
  const started = performance.now();
  let done: () => Promise<number>;
  let stop: () => Promise<void>;
  let others: (() => Promise<number>) | undefined;
  if (kind === "scoring") {
    const running = await startScoring(config);
    done = () =>
      handle.db.$count(
        schema.scoringOutbox,
        and(
          isNotNull(schema.scoringOutbox.publishedAt),
          eq(schema.scoringOutbox.topic, Topics.leadScored),
        ),
      );
    stop = running.stop;
  } else if (kind === "mixed") {
    // Leads/s as in the lead-only run: until every lead event is handled. The outcomes
    // and settlements flow meanwhile on their own topics; how many were done by then is
    // reported beside it (they must not have waited on one another, or on the model).
    const running = await startScoring(config);
    done = () =>
      handle.db.$count(schema.scoringInbox, like(schema.scoringInbox.eventId, "bench-lead-%"));
    others = async () => (await handle.db.$count(schema.scoringInbox)) - N;
    stop = running.stop;
  } else {
    const sub = await subscribeTopic(bus, {
      groupId: "baseline",
      topic: Topics.leadEvents,
      handler: async (e) => {
        await handle.db.transaction((tx) =>
          markProcessed(tx, schema.scoringInbox, "baseline", e.id),
        );
      },
    });
    done = () => handle.db.$count(schema.scoringInbox);
    stop = () => sub.close();
  }
  for (;;) {
    const count = await done();
    if (count >= N) break;
    await new Promise((r) => setTimeout(r, 200));
    if (Math.random() < 0.1) progress(`${kind}: ${count}/${N}`);
  }
  const perSec = N / ((performance.now() - started) / 1000);
  if (others) {
    mixedDone = await others();
    const total = outcomes.length + settlements.length;
    // Then the rest, so the run ends with everything handled (and is timed too).
    while ((await others()) < total) await new Promise((r) => setTimeout(r, 200));
    mixedAllSeconds = (performance.now() - started) / 1000;
  }
  await stop();
  await bus.close();
  await handle.close();
  await database.drop();
  return perSec;
}
const baseline = await endToEnd("baseline");
const scoring = await endToEnd("scoring");
const mixed = await endToEnd("mixed");

console.log(
  `\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; Kafka and PostgreSQL on the same machine`,
);
console.log(
  `workload: ${N} new leads (one CRM event each) already on the broker, 6 partitions, one scoring process\n`,
);
console.log(
  `model (features + score):      ${modelUs.toFixed(2).padStart(8)} µs/lead   (${(modelUs / parseUs).toFixed(1)}× a JSON.parse of the event, ${parseUs.toFixed(2)} µs)`,
);
console.log(
  `baseline consumer (inbox only): ${Math.round(baseline).toLocaleString("en-US").padStart(8)} events/s`,
);
console.log(
  `scoring end to end:             ${Math.round(scoring).toLocaleString("en-US").padStart(8)} leads/s   (${(scoring / baseline).toFixed(2)}× the baseline)`,
);
console.log(
  `with outcomes + labels mixed in: ${Math.round(mixed).toLocaleString("en-US").padStart(8)} leads/s   (${(mixed / scoring).toFixed(2)}× lead-only; by then ${mixedDone} of the ${outcomes.length} outcomes + ${settlements.length} settlements handled, all of them in ${mixedAllSeconds.toFixed(1)} s)`,
);
console.log(`target ≥ 3,000 leads/s → ${scoring >= 3_000 ? "met" : "MISSED"}`);
process.exit(0);
