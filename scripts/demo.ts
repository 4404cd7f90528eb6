// `pnpm demo` — the embedded end-to-end demo. Not assembled yet: every service (gateway
// included) runs in one process (apps/embedded) and the dashboard (apps/web) runs against
// it in the browser suite, but the one command that starts both with seeded data, a
// recipient simulator and a presenter's script is issue 17. Saying so beats a fake demo.
console.error(
  [
    "The demo command is not assembled yet.",
    "What exists: every service in one process (apps/embedded, gateway included) and the command center (apps/web); the browser suite runs them together (apps/web/e2e).",
    "What is next: `pnpm demo` itself (seeded leads, a recipient simulator, the dashboard) — see PLAN.md.",
    "Run the tests meanwhile: bash scripts/test.sh",
  ].join("\n"),
);
process.exit(1);
