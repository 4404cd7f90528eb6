// `pnpm sim:engine <world.json> [leads] [--seed N] [--batch 500] [--pg | --pglite-dir D]` — the whole
// engine (queue, drain, copy, decisions on the database, outcomes, settlement,
// review with suppression and guardrails) driven by a world file's hidden rates,
// one simulated day per batch. Where `pnpm sim` measures the policy on its own at
// 50k leads in seconds, this proves the production code path learns the same way,
// and prints how fast it decides (decisions/s) next to a baseline measured in the
// same run: the same number of bare single-row transactions on the same database.

import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { seededRng } from "@pw/bandit";
import { createMemoryBus } from "@pw/bus";
import { createDb, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { envelope, type LeadScored, type OutreachOutcome } from "@pw/events";
import { pickSegment, ratesAt, readWorldFile } from "@pw/simulator";
import { sql } from "drizzle-orm";
import { experimentsConfig } from "../src/config.ts";
import { seedPlaybook } from "../src/engine.ts";
import { startExperiments } from "../src/start.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seed: { type: "string", default: "1" },
    batch: { type: "string", default: "500" },
    pg: { type: "boolean", default: false },
    /** Keep the engine's database (e.g. for `pnpm ope --pglite <dir>`). */
    "pglite-dir": { type: "string" },
  },
});
const [file, leadsArg] = positionals;
if (!file) {
  console.error("usage: pnpm sim:engine <world.json> [leads] [--seed N] [--batch 500] [--pg]");
  process.exit(2);
}
const world = await readWorldFile(file).catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
const leads = Number(leadsArg ?? 10_000);
const batch = Number(values.batch);
const seed = Number(values.seed);
if (!Number.isInteger(leads) || leads < batch) {
  console.error(`leads: must be an integer ≥ the batch size (${batch})`);
  process.exit(2);
}
if (values.pg && !process.env.DATABASE_URL) {
  console.error('--pg: set DATABASE_URL (eval "$(bash scripts/services.sh env)")');
  process.exit(2);
}

const handle = await createDb(
  values.pg
    ? { driver: "pg", url: process.env.DATABASE_URL! }
    : { driver: "pglite", ...(values["pglite-dir"] ? { dir: values["pglite-dir"] } : {}) },
);
await migrate(handle);
if (values.pg || values["pglite-dir"]) {
  // A clean slate for the engine's tables (the bench owns this database run).
  await handle.db.execute(
    sql`truncate experiments.arms, experiments.decisions, experiments.queue, experiments.send_capacity, experiments.inbox, experiments.outbox, experiments.settings, experiments.do_not_contact, experiments.playbook`,
  );
}
await seedPlaybook(handle.db);
// The world's variants are the experiment's arms: retire the others, add missing ones.
await handle.db
  .update(schema.playbook)
  .set({ retired: true })
  .where(sql`cadence_step = 0 and track = 'experiment'`);
for (const v of world.variants)
  await handle.db
    .insert(schema.playbook)
    .values({
      variantId: v,
      channel: "email",
      angle: v,
      subjectTemplate: `${v} for {{company}}`,
      bodyTemplate: `Hi {{firstName}} — ${v}.`,
    })
    .onConflictDoUpdate({ target: schema.playbook.variantId, set: { retired: false } });

let clock = new Date("2026-01-01T09:00:00Z");
// The engine as production starts it (startExperiments, production's config parser and
// defaults); only the world's pace differs: a one-day attribution window and a day's
// capacity of one batch. Its timers do not fire during the run (review every hour of
// real time); the simulation settles and reviews on its own clock below.
const bus = createMemoryBus();
const running = await startExperiments(
  experimentsConfig({
    PORT: "0",
    LOG_LEVEL: "warn",
    EXPERIMENT_ATTRIBUTION_DAYS: "1",
    EXPERIMENT_DAILY_CAPACITY: String(batch),
    EXPERIMENT_REVIEW_EVERY_MS: "3600000",
  }),
  { db: handle, bus, listen: false, rng: seededRng(seed * 7919 + 1), now: () => clock },
);
const { engine } = running;
const worldRng = seededRng(seed);
let oracle = 0;
let expected = 0;
let conversions = 0;
let bestPicks = 0;
let loserPicks = 0;
const window: boolean[] = [];
const bestShareAt: Record<string, number> = {};
const checkpoints = [1_000, 5_000, 10_000, 25_000, leads];
const suppressed: { change: string; atLead: number }[] = [];
let decided = 0;
let decideMs = 0;
const started = performance.now();

for (let done = 0; done < leads; done += batch) {
  const segmentOf = new Map<string, string>();
  for (let i = 0; i < batch; i++) {
    const segment = pickSegment(world, worldRng);
    const leadId = `sim-${done + i}`;
    segmentOf.set(leadId, segment);
    await engine.handleScored(
      envelope({
        type: "lead.scored.v1",
        source: "pw://sim",
        subject: leadId,
        data: {
          score: 80,
          tier: "hot",
          segment,
          reasons: [],
          facts: { email: `${leadId}@example.com`, firstName: "Sam", company: "Acme" },
          model: { scorer: "builtin", version: "sim" },
          contactable: true,
          scoredAt: clock.toISOString(),
        },
      }) as LeadScored,
    );
  }
  const t0 = performance.now();
  const r = await engine.drain(batch);
  decideMs += performance.now() - t0;
  decided += r.requested;
  const made = await handle.db
    .select({
      leadId: schema.decisions.leadId,
      requestId: schema.decisions.requestId,
      variantId: schema.decisions.variantId,
    })
    .from(schema.decisions)
    .where(sql`${schema.decisions.settledAt} is null`);
  for (const [i, d] of made.entries()) {
    const lead = done + i + 1;
    const rates = ratesAt(world, segmentOf.get(d.leadId)!, lead, leads);
    const best = Math.max(...Object.values(rates));
    const rate = rates[d.variantId]!;
    oracle += best;
    expected += rate;
    const isBest = rate === best;
    if (isBest) bestPicks++;
    else loserPicks++;
    window.push(isBest);
    if (window.length > 1_000) window.shift();
    if (checkpoints.includes(lead))
      bestShareAt[String(lead)] =
        Math.round((1000 * window.filter(Boolean).length) / window.length) / 10;
    if (worldRng() < rate) {
      conversions++;
      await engine.handleOutcome(
        envelope({
          type: "outreach.outcome.v1",
          source: "pw://sim",
          subject: d.leadId,
          data: {
            outcome: "meeting_booked",
            occurredAt: clock.toISOString(),
            requestId: d.requestId,
          },
        }) as OutreachOutcome,
      );
    }
  }
  clock = new Date(clock.getTime() + 2 * 86_400_000); // the window closes: non-responses settle
  await engine.settleExpired();
  for (const change of await engine.review()) suppressed.push({ change, atLead: done + batch });
  process.stderr.write(
    `\r${done + batch}/${leads} leads, ${Math.round(performance.now() - started) / 1000} s`,
  );
}
process.stderr.write("\n");

// Baseline in the same run: one bare single-row transaction per decision.
await handle.db.execute(sql`create temporary table bench_baseline (id int primary key, v text)`);
const tb = performance.now();
const baselineN = Math.min(decided, 2_000);
for (let i = 0; i < baselineN; i++)
  await handle.db.transaction(async (tx) => {
    await tx.execute(sql`insert into bench_baseline values (${i}, 'x')`);
  });
const baselinePerS = baselineN / ((performance.now() - tb) / 1000);
const decisionsPerS = decided / (decideMs / 1000);

console.log(
  JSON.stringify(
    {
      world: world.name,
      database: values.pg ? "postgresql" : "pglite",
      leads,
      batch,
      seed,
      conversions,
      expectedConversions: Math.round(expected),
      oracleConversions: Math.round(oracle),
      regretPct: Math.round((1000 * (oracle - expected)) / oracle) / 10,
      bestShareAt,
      bestTrafficPct: Math.round((1000 * bestPicks) / decided) / 10,
      loserTrafficPct: Math.round((1000 * loserPicks) / decided) / 10,
      suppressed,
      speed: {
        decisionsPerS: Math.round(decisionsPerS),
        bareTransactionsPerS: Math.round(baselinePerS),
        ratio: Math.round((100 * decisionsPerS) / baselinePerS) / 100,
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        memGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
    },
    null,
    2,
  ),
);
await running.stop();
await bus.close();
await handle.close();
