// `pnpm bench:telemetry` — what Sentry costs: `bench:scoring` and `bench:dispatch` run as
// production runs (`node --import @pw/telemetry/instrument`), without a DSN, and with the
// DSN pointed at a local collector (speaking Sentry's envelope endpoint) at the
// recommended sample rate (0.01, the default) and at 1.0. Throughput of each, as a ratio to
// the run without telemetry in the same invocation; what reached the collector.
// Needs KAFKA_BROKERS and DATABASE_URL (eval "$(bash scripts/services.sh env)").
import { spawn } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { startSentryCollector } from "@pw/telemetry/test-collector";

if (!process.env.KAFKA_BROKERS || !process.env.DATABASE_URL) {
  console.error(
    'bench:telemetry needs KAFKA_BROKERS and DATABASE_URL: eval "$(bash scripts/services.sh env)"',
  );
  process.exit(2);
}
const root = join(import.meta.dirname, "..");
const BENCHES = [
  {
    name: "scoring",
    file: "apps/scoring/bench/scoring.bench.ts",
    figure: /scoring end to end:\s+([\d,]+) leads\/s/,
    unit: "leads/s",
  },
  {
    name: "dispatch",
    file: "apps/dispatch/bench/dispatch.bench.ts",
    figure: /dispatch end to end:\s+([\d,]+) sends\/s/,
    unit: "sends/s",
  },
] as const;
const collector = await startSentryCollector();
const SETTINGS = [
  { label: "no DSN (off)", env: { SENTRY_DSN: "" } },
  {
    label: "DSN, sample rate 0.01 (the default)",
    env: { SENTRY_DSN: collector.dsn, SENTRY_TRACES_SAMPLE_RATE: "0.01" },
  },
  {
    label: "DSN, sample rate 1.0",
    env: { SENTRY_DSN: collector.dsn, SENTRY_TRACES_SAMPLE_RATE: "1" },
  },
];

function run(file: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "@pw/telemetry/instrument", file], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${file} exited ${code}\n${out}`)),
    );
  });
}

const results: string[] = [];
// BENCH_ONLY=scoring (or dispatch) runs one of them.
const only = process.env.BENCH_ONLY;
for (const bench of BENCHES.filter((b) => !only || b.name === only)) {
  let off = 0;
  for (const s of SETTINGS) {
    const before = collector.envelopes.length;
    process.stderr.write(`  … ${bench.name}: ${s.label}\n`);
    const out = await run(bench.file, s.env);
    const m = bench.figure.exec(out);
    if (!m) throw new Error(`no figure in ${bench.name}'s output:\n${out}`);
    const value = Number(m[1]!.replaceAll(",", ""));
    if (s.env.SENTRY_DSN === "") off = value;
    const sent = collector.envelopes.slice(before);
    const items = sent.flatMap((e) => e.items.map((i) => i.type));
    const count = (t: string) => items.filter((i) => i === t).length;
    results.push(
      `${bench.name.padEnd(9)} ${s.label.padEnd(36)} ${value.toLocaleString("en-US").padStart(7)} ${bench.unit}  ${off ? `${(value / off).toFixed(2)}×` : ""}   envelopes ${sent.length} (span items ${count("span")}, metrics ${count("trace_metric")}, events ${count("event")})`,
    );
  }
}
await collector.close();
console.log(
  `\nmachine: ${cpus()[0]?.model} × ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; Kafka, PostgreSQL and the collector on the same machine\n`,
);
for (const r of results) console.log(r);
console.log("\ntarget: ≤ 10% throughput cost (≥ 0.90×) at the recommended sample rate");
