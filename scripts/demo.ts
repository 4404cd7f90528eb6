// `pnpm demo` — the embedded end-to-end demo. Not built yet: ingest, scoring, the
// experiment engine, dispatch with the outreach agent and the gateway's API run (the first
// four together in one process: apps/embedded), but there is no dashboard to watch, so
// there is nothing to show a presenter yet. Saying so beats printing a fake demo.
console.error(
  [
    "The demo is not built yet.",
    "What exists: ingest, scoring, the experiment engine, dispatch with the outreach agent (simulated inbox) and the gateway API; all but the gateway run in one process (apps/embedded).",
    "What is next: the command center (the Next.js dashboard), then the demo itself — see PLAN.md.",
    "Run the tests meanwhile: bash scripts/test.sh",
  ].join("\n"),
);
process.exit(1);
