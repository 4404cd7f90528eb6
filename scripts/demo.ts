// `pnpm demo` — the embedded end-to-end demo. It does not exist yet: the services
// it runs (ingest, scoring, experiments, dispatch, gateway, web) are the next phases
// of PLAN.md. Saying so beats printing a fake demo.
console.error(
  [
    "The demo is not built yet.",
    "What exists: event contracts, the bus (Kafka + in-process), the database layer and their tests.",
    "What is next: ingest, scoring, the experiment engine, dispatch, gateway and the command center — see PLAN.md.",
    "Run the tests meanwhile: bash scripts/test.sh",
  ].join("\n"),
);
process.exit(1);
