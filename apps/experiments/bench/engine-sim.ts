// `pnpm sim:engine <world.json> [leads] [--seed N] [--batch 500] [--pg | --pglite-dir D]` — the whole
// engine (queue, drain, copy, decisions on the database, outcomes, settlement,
// review with suppression and guardrails) driven by a world file's hidden rates,
// one simulated day per batch: each send's outcomes from the world's recipient model
// (bounces, opens, replies with a text, meetings, deals, opt-outs; world files v2) are
// posted as the ingest would, at their delayed times (outcome-feed.ts). Where `pnpm sim` measures the policy on its own at
// 50k leads in seconds, this proves the production code path learns the same way,
// and prints how fast it decides (decisions/s) next to a baseline measured in the
// same run: the same number of bare single-row transactions on the same database.
// Exit 2 on a bad argument or world file, 1 on a failure while running (command-line.ts).

import { cpus, totalmem } from "node:os";
import type { LeadScored } from "@pw/events";
import {
  detailRng,
  drawSend,
  pickSegment,
  ratesAt,
  readWorldFile,
  recipientModel,
  type World,
  worldHasDelays,
} from "@pw/simulator";
import {
  integerArg,
  parseCommandLine,
  pathArg,
  printUsage,
  runCommand,
  SEED_RANGE,
  UsageError,
} from "@pw/simulator/command-line";

const USAGE = `usage: pnpm sim:engine <world.json> [leads] [--seed N] [--batch N] [--pg | --pglite-dir DIR]

  <world.json>        a world file (format: packages/simulator/README.md)
  [leads]             leads to run through the engine, a whole number ≥ 1 (default 10000)
  --seed N            world and engine seed, 0 to 4294967295 (default 1)
  --batch N           leads per simulated day (the day's send capacity), 1 to 1000000 (default 500)
  --pg                on PostgreSQL at DATABASE_URL (its experiments tables are truncated first)
  --pglite-dir DIR    on a PGlite directory that is kept (e.g. for pnpm ope --pglite DIR);
                      default: an in-memory PGlite`;

type Args = {
  file: string;
  leads: number;
  seed: number;
  batch: number;
  pg: boolean;
  pgliteDir?: string;
};

function parse(argv: string[]): Args | "help" {
  const { help, values, positionals } = parseCommandLine(argv, {
    seed: { type: "string" },
    batch: { type: "string" },
    pg: { type: "boolean" },
    "pglite-dir": { type: "string" },
  });
  if (help) return "help";
  const [file, leadsArg, ...extra] = positionals;
  if (!file) throw new UsageError("missing <world.json>");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (values.pg && values["pglite-dir"] !== undefined)
    throw new UsageError("--pglite-dir: not with --pg (choose one database)");
  if (values.pg && !process.env.DATABASE_URL)
    throw new UsageError('--pg: set DATABASE_URL (eval "$(bash scripts/services.sh env)")');
  return {
    file,
    leads: leadsArg === undefined ? 10_000 : integerArg("leads", leadsArg, { min: 1 }),
    seed: values.seed === undefined ? 1 : integerArg("--seed", values.seed, SEED_RANGE),
    // At most what the engine's config accepts as a day's capacity.
    batch:
      values.batch === undefined
        ? 500
        : integerArg("--batch", values.batch, { min: 1, max: 1_000_000 }),
    pg: values.pg ?? false,
    ...(values["pglite-dir"] !== undefined
      ? { pgliteDir: pathArg("--pglite-dir", values["pglite-dir"]) }
      : {}),
  };
}

await runCommand("sim:engine", USAGE, async () => {
  const args = parse(process.argv.slice(2));
  if (args === "help") return printUsage(USAGE);
  await run(await readWorldFile(args.file), args);
});

async function run(world: World, { leads, seed, batch, pg, pgliteDir }: Args): Promise<void> {
  // Loaded once the arguments are known good: a typo is answered at once, not after the
  // database drivers and the engine have been imported.
  const [{ seededRng }, { createMemoryBus }, { createDb, migrate }, schema, { envelope }, { sql }] =
    await Promise.all([
      import("@pw/bandit"),
      import("@pw/bus"),
      import("@pw/db"),
      import("@pw/db/experiments"),
      import("@pw/events"),
      import("drizzle-orm"),
    ]);
  const [
    { experimentsConfig },
    { seedPlaybook },
    { startExperiments },
    feed,
    report,
    { createLogger },
  ] = await Promise.all([
    import("../src/config.ts"),
    import("../src/engine.ts"),
    import("../src/start.ts"),
    import("./outcome-feed.ts"),
    import("./engine-report.ts"),
    import("@pw/logger"),
  ]);
  const handle = await createDb(
    pg
      ? { driver: "pg", url: process.env.DATABASE_URL! }
      : { driver: "pglite", ...(pgliteDir ? { dir: pgliteDir } : {}) },
  );
  await migrate(handle);
  if (pg || pgliteDir) {
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

  const start = new Date("2026-01-01T09:00:00Z");
  let clock = start;
  // A world without delays has every outcome at its send, so a day can close its window:
  // one day, and two days per batch (as before world files v2). With delays, the engine's
  // own window (14 days by default) and one day per batch.
  const instant = !worldHasDelays(world);
  const v1 = !world.segments.some((s) => s.outcomes) && !world.drift?.outcomes;
  // The engine as production starts it (startExperiments, production's config parser and
  // defaults); only the world's pace differs: the window above and a day's capacity of
  // one batch. Its timers do not fire during the run (review every hour of
  // real time); the simulation settles and reviews on its own clock below.
  const bus = createMemoryBus();
  const config = experimentsConfig({
    PORT: "0",
    LOG_LEVEL: "warn",
    ...(instant ? { EXPERIMENT_ATTRIBUTION_DAYS: "1" } : {}),
    EXPERIMENT_DAILY_CAPACITY: String(batch),
    EXPERIMENT_REVIEW_EVERY_MS: "3600000",
  });
  const running = await startExperiments(config, {
    db: handle,
    bus,
    // Logs on stderr: stdout is the JSON summary alone, for a pipe.
    logger: createLogger({ service: "experiments", level: "warn", destination: process.stderr }),
    listen: false,
    rng: seededRng(seed * 7919 + 1),
    now: () => clock,
  });
  const { engine } = running;
  const windowMs = config.attributionDays * 86_400_000;
  const worldRng = seededRng(seed);
  const recipient = recipientModel(world);
  const outcomes = feed.outcomeFeed({
    handleOutcome: (e) => engine.handleOutcome(e),
    setClock: (at) => {
      clock = at;
    },
    seed,
  });
  const days: { at: number; decided: number }[] = [];
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
    const day = Math.min(batch, leads - done); // the last day takes what is left
    const segmentOf = new Map<string, string>();
    for (let i = 0; i < day; i++) {
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
    const r = await engine.drain(day);
    decideMs += performance.now() - t0;
    decided += r.requested;
    const made = await handle.db
      .select({
        leadId: schema.decisions.leadId,
        requestId: schema.decisions.requestId,
        variantId: schema.decisions.variantId,
      })
      .from(schema.decisions)
      .where(
        instant
          ? sql`${schema.decisions.settledAt} is null`
          : sql`${schema.decisions.settledAt} is null and ${schema.decisions.requestedAt} >= ${clock}`,
      );
    days.push({ at: clock.getTime(), decided: done + made.length });
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
      const recipientNow = recipient(segmentOf.get(d.leadId)!, d.variantId, lead, leads);
      const sent = drawSend(recipientNow, worldRng, detailRng(seed, lead));
      const meeting = sent.find((o) => o.kind === "meeting_booked");
      if (meeting && meeting.afterHours * 3_600_000 <= windowMs) conversions++;
      // A world file v1 models meetings only: it posts them alone, as it always has, not a
      // `delivered` (which the engine ignores) for every send.
      outcomes.schedule(
        clock,
        d.leadId,
        d.requestId,
        v1 ? sent.filter((o) => o.kind !== "delivered") : sent,
      );
    }
    // The day's outcomes in time order; then the window closes on what is due to settle.
    const next = new Date(clock.getTime() + (instant ? 2 : 1) * 86_400_000);
    await outcomes.postUntil(instant ? clock : next);
    clock = next;
    await engine.settleExpired();
    for (const change of await engine.review()) suppressed.push({ change, atLead: done + day });
    process.stderr.write(
      `\r${done + day}/${leads} leads, ${Math.round(performance.now() - started) / 1000} s`,
    );
  }
  // The last sends' outcomes still on their way: day by day (skipping empty days), each
  // day's window closing as before, until none is left.
  for (let at = outcomes.nextAt(); at !== undefined; at = outcomes.nextAt()) {
    const day = Math.max(clock.getTime(), at - ((at - start.getTime()) % 86_400_000));
    await outcomes.postUntil(new Date(day + 86_400_000));
    await engine.settleExpired();
    for (const change of await engine.review()) suppressed.push({ change, atLead: decided });
  }
  process.stderr.write("\n");
  // What the engine announced (guardrail pauses, blocked segments) and its arms at the end.
  const leadsBy = (at: Date) => days.findLast((d) => d.at <= at.getTime())?.decided ?? 0;
  const guardrails = await report.guardrailEvents(handle.db, leadsBy);
  const arms = await report.armsReport(handle.db);

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
        database: pg ? "postgresql" : "pglite",
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
        attributionDays: config.attributionDays,
        outcomes: outcomes.summary(),
        guardrails,
        arms,
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
}
