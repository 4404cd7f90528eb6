// The sweep behind the engine's default policy (docs/adr/0015): candidate settings of
// change detection, evidence discount and suppression, each run on the stationary
// five-variant world (mean regret over 50 seeds), the drifting world (share of the
// new best 10k leads after the change, regret against ε-greedy on the same leads) and
// the six-segment world (every segment on its own best), the bars of issue 14.
// `pnpm sim:sweep [--quick]` (~40 s a candidate): progress on stderr, one JSON line per
// candidate on stdout.
import { join } from "node:path";
import { type ChangeOptions, DEFAULT_CHANGE, discountFactor } from "@pw/bandit";
import { parseCommandLine, printUsage, runCommand, UsageError } from "../src/command-line.ts";
import { defaultOptions, type SimOptions, simulate } from "../src/simulate.ts";
import { readWorldFile } from "../src/world.ts";

const USAGE = `usage: pnpm sim:sweep [--quick]

  --quick   the chosen defaults and the settings before issue 14 only, on fewer seeds`;

async function main(quick: boolean) {
  const worlds = join(import.meta.dirname, "../../../data/worlds");
  const load = (f: string) => readWorldFile(join(worlds, f));
  const [five, drifting, six] = await Promise.all(
    ["five-variants.json", "drifting.json", "six-segments.json"].map(load),
  );
  const LEADS = 50_000;
  const seeds = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  type Candidate = { name: string; options: Omit<SimOptions, "leads" | "seed"> };

  const base = defaultOptions(LEADS);
  const candidates: Candidate[] = [];
  const change = (window: number, threshold: number, keep: number): ChangeOptions => ({
    window,
    threshold,
    minRecent: 400,
    keep,
  });
  const forget = (halfLife: number) => discountFactor(500, halfLife);
  const grid: [string, Omit<SimOptions, "leads" | "seed">][] = quick
    ? [["default", { ...base, change: DEFAULT_CHANGE, discount: 1 }]]
    : [
        ...[
          change(1_000, 3.5, 0),
          change(1_000, 3.5, 15),
          change(1_000, 3.5, 30),
          change(1_000, 3, 15),
          change(700, 3.5, 15),
          change(1_500, 3.5, 15),
          change(1_000, 4.5, 60),
        ].map((c): [string, Omit<SimOptions, "leads" | "seed">] => [
          `change window ${c.window} z ${c.threshold} keep ${c.keep}`,
          { ...base, change: c, discount: 1 },
        ]),
        ...[6_750, 15_000].map((h): [string, Omit<SimOptions, "leads" | "seed">] => [
          `half-life ${h} leads, no suppression, no change detection`,
          { ...base, change: false, suppression: false, discount: forget(h) },
        ]),
      ];
  for (const [name, options] of grid) candidates.push({ name, options });
  candidates.push({
    name: "before issue 14: suppression, no discount, no change detection",
    options: { ...base, change: false, discount: 1 },
  });

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const epsilon = seeds(10).map(
    (seed) => simulate(drifting!, "epsilon_greedy", { leads: LEADS, seed }).regretPct,
  );
  const after = String(LEADS / 2 + 10_000);

  for (const [i, c] of candidates.entries()) {
    process.stderr.write(`${i + 1}/${candidates.length}: ${c.name}\n`);
    const started = performance.now();
    const fiveRuns = seeds(quick ? 20 : 50).map((seed) =>
      simulate(five!, "thompson", { ...c.options, leads: LEADS, seed }),
    );
    const fiveRegret = fiveRuns.map((r) => r.regretPct);
    const drift = seeds(10).map((seed) =>
      simulate(drifting!, "thompson", {
        ...c.options,
        leads: LEADS,
        seed,
        checkpoints: [Number(after), LEADS],
      }),
    );
    const sixRuns = seeds(10).map((seed) =>
      simulate(six!, "thompson", { ...c.options, leads: LEADS, seed }),
    );
    const driftShares = drift.map((d) => d.bestShareAt[after]!);
    const line = {
      candidate: c.name,
      fiveRegretMean: r1(mean(fiveRegret)),
      driftShareOk: driftShares.filter((s) => s >= 60).length,
      driftShares,
      driftBeatsEpsilon: drift.filter((d, i) => d.regretPct <= epsilon[i]!).length,
      driftRegretMean: r1(mean(drift.map((d) => d.regretPct))),
      sixOk: sixRuns.filter((r) => r.segments.every((s) => s.bestSharePct >= 70)).length,
      falseChanges: [...fiveRuns, ...sixRuns].reduce((n, r) => n + r.changes.length, 0),
      driftChangesAt: drift.map((d) => d.changes.map((x) => x.atLead).join("+")),
      seconds: r1((performance.now() - started) / 1000),
    };
    console.log(JSON.stringify(line));
  }
}

await runCommand("sim:sweep", USAGE, async () => {
  const { help, values, positionals } = parseCommandLine(process.argv.slice(2), {
    quick: { type: "boolean" },
  });
  if (help) return printUsage(USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  await main(values.quick ?? false);
  return 0;
});
