// `pnpm sim:targets [--seeds N]` — the learning targets of issue 14, measured with the
// engine's default settings (`defaultOptions`, the same for every world) and quoted against
// ε-greedy, A/B-then-ship and uniform on the same leads (`compare`). Progress on stderr,
// one JSON summary on stdout. About two minutes on a 2-core machine.
import { cpus } from "node:os";
import { join } from "node:path";
import {
  integerArg,
  parseCommandLine,
  printUsage,
  runCommand,
  UsageError,
} from "../src/command-line.ts";
import { compare, defaultOptions, type PolicyName, type PolicyResult } from "../src/simulate.ts";
import { readWorldFile } from "../src/world.ts";

const LEADS = 50_000;
const POLICIES: PolicyName[] = ["thompson", "epsilon_greedy", "ab_then_ship", "uniform"];
const USAGE = `usage: pnpm sim:targets [--seeds N]

  --seeds N   seeds per world, 1 to 1000 (default 10; the five-variant world runs 5 × N)`;
let SEEDS = 10;
const worlds = join(import.meta.dirname, "../../../data/worlds");
const world = (f: string) => readWorldFile(join(worlds, f));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const r1 = (x: number) => Math.round(x * 10) / 10;
const mean = (xs: number[]) => r1(xs.reduce((a, b) => a + b, 0) / xs.length);

/** Every policy's runs of `file` over `seeds`, with progress. */
async function runs(file: string, seeds: number[]) {
  const w = await world(file);
  const out = new Map<PolicyName, PolicyResult[]>(POLICIES.map((p) => [p, []]));
  for (const seed of seeds) {
    process.stderr.write(`\r${file}: seed ${seed}/${seeds.length}   `);
    const c = compare(w, {
      ...defaultOptions(LEADS),
      seed,
      checkpoints: [LEADS / 2 + 10_000, LEADS],
    });
    for (const p of POLICIES) out.get(p)!.push(c.policies[p]!);
  }
  process.stderr.write("\n");
  return out;
}
const byPolicy = <T>(r: Map<PolicyName, PolicyResult[]>, f: (runs: PolicyResult[]) => T) =>
  Object.fromEntries(POLICIES.map((p) => [p, f(r.get(p)!)]));

async function main() {
  const started = performance.now();
  const five = await runs("five-variants.json", range(SEEDS * 5));
  const delayed = await runs("five-variants-delayed.json", range(SEEDS * 3));
  const drift = await runs("drifting.json", range(SEEDS));
  const bouncer = await runs("bouncer.json", range(SEEDS));
  const allBounce = await runs("all-bounce.json", range(SEEDS));
  const six = await runs("six-segments-tiny.json", range(SEEDS));

  const after = String(LEADS / 2 + 10_000);
  const epsilon = drift.get("epsilon_greedy")!;
  const bouncing = (r: PolicyResult) =>
    r.arms.filter((a) => a.bounces / Math.max(1, a.sends) > 0.05 || a.pausedAtSends !== undefined);

  /** Indented JSON with each array of numbers (or of short arrays) on one line. */
  const print = (value: unknown) =>
    console.log(
      JSON.stringify(value, null, 2).replace(/\[[\s\d.,null[\]-]*\]/g, (a) =>
        a.replace(/\s+/g, " ").replace(/\[ /g, "[").replace(/ \]/g, "]"),
      ),
    );

  print({
    leads: LEADS,
    settings:
      "the engine's defaults (defaultOptions(): DEFAULT_POLICY, pooled prior, suppression, change detection)",
    fiveVariants: {
      target: `mean regret ≤ 3.5% over ${SEEDS * 5} seeds`,
      meanRegretPct: byPolicy(five, (rs) => mean(rs.map((r) => r.regretPct))),
    },
    fiveVariantsDelayed: {
      target: `the same race, meetings days after the send: mean and worst regret over ${SEEDS * 3} seeds (no bar in the issue; the instant world's 3.5% is the aim)`,
      meanRegretPct: byPolicy(delayed, (rs) => mean(rs.map((r) => r.regretPct))),
      worstRegretPct: byPolicy(delayed, (rs) => Math.max(...rs.map((r) => r.regretPct))),
    },
    drift: {
      target: `≥ 60% on the new best 10k leads after the change in ≥ 90% of seeds; regret ≤ ε-greedy's every seed`,
      newBestSharePct: byPolicy(drift, (rs) => rs.map((r) => r.bestShareAt[after])),
      seedsAt60: byPolicy(drift, (rs) => rs.filter((r) => r.bestShareAt[after]! >= 60).length),
      regretPct: byPolicy(drift, (rs) => rs.map((r) => r.regretPct)),
      thompsonAtMostEpsilonIn: drift
        .get("thompson")!
        .filter((r, i) => r.regretPct <= epsilon[i]!.regretPct).length,
    },
    bouncer: {
      target: "the 8% bouncer paused after ≤ 150 sends to it, every seed, with its reason",
      pausedAtSends: byPolicy(bouncer, (rs) =>
        rs.map((r) => bouncing(r).map((a) => a.pausedAtSends ?? null)),
      ),
      bouncesSent: byPolicy(bouncer, (rs) => rs.reduce((n, r) => n + r.outcomes.hardBounces, 0)),
      reason: bouncer.get("thompson")![0]!.arms.find((a) => a.reason)?.reason ?? null,
    },
    allBounce: {
      target: "the segment reported blocked",
      blockedIn: byPolicy(allBounce, (rs) => rs.filter((r) => r.blocked.length > 0).length),
      blockedAtLead: byPolicy(allBounce, (rs) => rs.map((r) => r.blocked[0]?.atLead ?? null)),
    },
    sixSegmentsTiny: {
      target: `every segment ≥ 70% on its own best in the last 20% of leads in ≥ 90% of seeds`,
      seedsAllSegmentsAt70: byPolicy(
        six,
        (rs) => rs.filter((r) => r.segments.every((s) => s.bestSharePct >= 70)).length,
      ),
      tinySegmentBestSharePct: byPolicy(six, (rs) =>
        rs.map(
          (r) =>
            r.segments.find((s) => s.leads === Math.min(...r.segments.map((x) => x.leads)))!
              .bestSharePct,
        ),
      ),
      meanRegretPct: byPolicy(six, (rs) => mean(rs.map((r) => r.regretPct))),
    },
    seconds: r1((performance.now() - started) / 1000),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  });
}

await runCommand("sim:targets", USAGE, async () => {
  const { help, values, positionals } = parseCommandLine(process.argv.slice(2), {
    seeds: { type: "string" },
  });
  if (help) return printUsage(USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.seeds !== undefined)
    SEEDS = integerArg("--seeds", values.seeds, { min: 1, max: 1_000 });
  await main();
  return 0;
});
