/** What `pnpm ope` prints: one JSON summary (`--json`) or a table for people. */
import type { Source } from "./args.ts";
import type { LoadedLog, SkipReason } from "./decision-log.ts";
import type { Estimate, Interval } from "./estimators.ts";
import type { Evaluation } from "./evaluate.ts";

/** A candidate's estimates as printed: the estimator's fields, minus what all candidates share. */
export type CandidateSummary = Omit<Estimate, "n" | "logged"> & {
  spec: string;
  /** True expected reward on the logged states (simulated logs only). */
  true?: number;
};

export type OpeSummary = {
  source: Source;
  records: {
    used: number;
    skipped: number;
    skippedBy: Record<SkipReason, number>;
    examples: string[];
  };
  logged: { average: number; ci: Interval; true?: number };
  candidates: CandidateSummary[];
  warnings: string[];
  seconds: number;
};

export function summarize(
  source: Source,
  log: Pick<LoadedLog, "skipped" | "examples">,
  evaluation: Evaluation,
  seconds: number,
): OpeSummary {
  const skipped = Object.values(log.skipped).reduce((n, c) => n + c, 0);
  return {
    source,
    records: {
      used: evaluation.records,
      skipped,
      skippedBy: log.skipped,
      examples: log.examples,
    },
    logged: evaluation.logged,
    candidates: evaluation.candidates.map((c) => ({
      spec: c.spec,
      ips: c.ips,
      ipsCi: c.ipsCi,
      snips: c.snips,
      snipsCi: c.snipsCi,
      ess: c.ess,
      maxWeight: c.maxWeight,
      ...(c.true === undefined ? {} : { true: c.true }),
    })),
    warnings: [
      ...(skipped > 0
        ? [`${skipped} decisions skipped (${describeSkips(log.skipped)}), e.g. ${log.examples[0]}`]
        : []),
      ...evaluation.warnings,
    ],
    seconds: Math.round(seconds * 10) / 10,
  };
}

const describeSkips = (s: Record<SkipReason, number>) =>
  Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");

const rate = (x: number | null) => (x === null ? "—" : x.toFixed(4));
const ci = (i: Interval | null) => (i === null ? "—" : `[${rate(i[0])}, ${rate(i[1])}]`);

function describeSource(s: Source): string {
  switch (s.kind) {
    case "logs":
      return s.file;
    case "db":
      return "experiments.decisions (DATABASE_URL)";
    case "pglite":
      return `experiments.decisions (PGlite ${s.dir})`;
    case "simulate":
      return `${s.world}, simulated with the ${s.logging} logger (seed ${s.seed})`;
  }
}

export function formatTable(s: OpeSummary): string {
  const simulated = s.logged.true !== undefined;
  const head = ["candidate", "IPS", "95% CI", "SNIPS", "95% CI", "ESS", "max w"];
  if (simulated) head.push("true", "in IPS CI");
  const rows = s.candidates.map((c) => {
    const row = [
      c.spec,
      rate(c.ips),
      ci(c.ipsCi),
      rate(c.snips),
      ci(c.snipsCi),
      c.ess.toFixed(0),
      c.maxWeight.toFixed(1),
    ];
    if (c.true !== undefined)
      row.push(rate(c.true), c.true >= c.ipsCi[0] && c.true <= c.ipsCi[1] ? "yes" : "no");
    return row;
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join("  ");
  const loggedTrue = s.logged.true === undefined ? "" : `, true ${rate(s.logged.true)}`;
  return [
    `${s.records.used} settled decisions from ${describeSource(s.source)}` +
      (s.records.skipped > 0 ? ` (${s.records.skipped} skipped)` : ""),
    `logged policy: average reward ${rate(s.logged.average)} ${ci(s.logged.ci)}${loggedTrue}`,
    "",
    line(head),
    ...rows.map(line),
    "",
    ...s.warnings.map((w) => `warning: ${w}`),
    `${s.seconds}s`,
  ].join("\n");
}
