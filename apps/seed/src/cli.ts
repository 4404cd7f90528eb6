// `pnpm seed` — posts signed webhooks to ingest: the sample-event files (default), new leads
// simulated on the fly (`--simulate N --rate R`), or one outcome (`--outcome KIND --lead ID`).
// Progress on stderr, the summary on stdout; exit 0 when everything was accepted or already
// there, 1 when anything was rejected or not delivered, 2 on a bad argument or file, 130
// when interrupted. The options: command.ts.
import { join, relative, resolve } from "node:path";
import { readWorldFile } from "@pw/simulator";
import { printUsage, runCommand } from "@pw/simulator/command-line";
import { parseSeedCommand, USAGE } from "./command.ts";
import { postOutcome } from "./outcome.ts";
import { progressDisplay } from "./progress.ts";
import { seedFiles } from "./seed-files.ts";
import { simulateLeads } from "./simulate.ts";
import { formatSummary, type Summary, succeeded } from "./summary.ts";
import { resolveTarget } from "./target.ts";

const ROOT = resolve(import.meta.dirname, "../../..");
const DEFAULT_FILES = join(ROOT, "data/sample-events");
const DEMO_FILE = join(ROOT, ".data/demo.json");

const display = (p: string) => relative(process.cwd(), p) || ".";

await runCommand("seed", USAGE, async () => {
  const command = parseSeedCommand(process.argv.slice(2), DEFAULT_FILES);
  if (command.mode === "help") return printUsage(USAGE);
  const target = await resolveTarget({
    ...(command.url !== undefined ? { url: command.url } : {}),
    ...(command.secret !== undefined ? { secret: command.secret } : {}),
    demoFile: DEMO_FILE,
    demoFileLabel: display(DEMO_FILE),
  });
  const where = `${target.ingestUrl} (url from ${target.urlFrom}, secret from ${target.secretFrom})`;
  const common = {
    ingestUrl: target.ingestUrl,
    secret: target.secret,
    ...(command.deadlineMs !== undefined ? { deadlineMs: command.deadlineMs } : {}),
  };

  // Ctrl-C stops sending and still prints what was done; a second one quits at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write("\nseed: stopping (Ctrl-C again to quit at once)…\n");
    interrupt.abort();
  };
  process.on("SIGINT", onSigint);

  try {
    if (command.mode === "outcome") {
      const r = await postOutcome({
        ...common,
        leadId: command.lead,
        kind: command.kind,
        ...(command.request !== undefined ? { requestId: command.request } : {}),
        ...(command.text !== undefined ? { text: command.text } : {}),
        signal: interrupt.signal,
      });
      if (command.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        const detail =
          r.status === "accepted"
            ? `accepted, event ${r.eventId ?? "?"}`
            : r.status === "duplicate"
              ? `duplicate (posted before: nothing new published), event ${r.eventId ?? "?"}`
              : r.status === "rejected"
                ? `rejected ${r.httpStatus} ${r.code}: ${r.message}`
                : `not delivered: ${r.message}`;
        const retries = r.retries ? ` (${r.retries} retries)` : "";
        process.stdout.write(
          `seed: ${command.kind} for ${command.lead} → ${where}: ${detail}${retries}\n`,
        );
      }
      if (interrupt.signal.aborted) return 130;
      return r.status === "accepted" || r.status === "duplicate" ? 0 : 1;
    }

    const progress = progressDisplay("seed");
    let summary: Summary;
    try {
      if (command.mode === "simulate") {
        const world = command.world === undefined ? undefined : await loadLeadWorld(command.world);
        const seeded = command.seed === undefined ? "" : ` (seed ${command.seed})`;
        process.stderr.write(
          `seed: simulating ${command.count} leads at ${command.rate}/s${seeded} → ${where}\n`,
        );
        const s = await simulateLeads({
          ...common,
          count: command.count,
          ratePerSecond: command.rate,
          ...(command.seed !== undefined ? { seed: command.seed } : {}),
          ...(world ? { world } : {}),
          concurrency: command.concurrency,
          onProgress: (p) => progress.update(p),
          signal: interrupt.signal,
        });
        progress.stop();
        if (!command.json) {
          const { started, requested } = s.leads;
          const how =
            started === requested
              ? `${requested} leads simulated`
              : `${started} of ${requested} leads started`;
          process.stdout.write(
            `seed: ${how}: lead ids lf_${s.prefix}-<n> (--seed ${s.seed} posts the same leads again)\n`,
          );
        }
        summary = s;
      } else {
        process.stderr.write(
          `seed: replaying ${command.files.map(display).join(", ")} → ${where}\n`,
        );
        summary = await seedFiles({
          ...common,
          files: command.files,
          ...(command.leads !== undefined ? { leads: command.leads } : {}),
          concurrency: command.concurrency,
          onProgress: (p) => progress.update(p),
          signal: interrupt.signal,
        });
        progress.stop();
      }
    } catch (error) {
      progress.stop();
      throw error;
    }
    if (command.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else for (const line of formatSummary(summary)) process.stdout.write(`seed: ${line}\n`);
    if (summary.interrupted) return 130;
    return succeeded(summary) ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
  }
});

/**
 * The world whose lead model `--simulate` draws from. A world without one (most describe
 * only how recipients answer) is still a valid choice — the demo may be answering by it —
 * so the leads come from the built-in mix, and the presenter is told.
 */
async function loadLeadWorld(file: string) {
  const world = await readWorldFile(file);
  if (!world.leadModel || world.segments.some((s) => !s.leads)) {
    process.stderr.write(
      `seed: ${file} has no lead model (each segment's \`leads\` and \`leadModel\`): simulating the built-in lead mix instead\n`,
    );
    return undefined;
  }
  return world;
}
