// `pnpm demo` — the embedded end-to-end demo. Not built yet: ingest, scoring and the
// experiment engine run (and run together in one process: apps/embedded), but nothing
// dispatches a message and there is no command center to watch, so there is nothing to
// show a presenter yet. Saying so beats printing a fake demo.
console.error(
  [
    "The demo is not built yet.",
    "What exists: ingest, scoring and the experiment engine, each startable alone or all in one process (apps/embedded).",
    "What is next: dispatch and the outreach agent, the gateway and the command center — see PLAN.md.",
    "Run the tests meanwhile: bash scripts/test.sh",
  ].join("\n"),
);
process.exit(1);
