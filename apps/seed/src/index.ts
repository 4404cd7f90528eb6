/**
 * @pw/seed: signed webhooks into ingest for demos, smoke tests and load — the sample-event
 * files, leads simulated on the fly, one outcome — with retries until accepted and a
 * summary that accounts for every webhook. The CLI (`pnpm seed`) is src/cli.ts.
 */
export { type Delivery, retryAfterMs } from "./deliver.ts";
export { groupByLead, type Job, readSeedFiles, retimed, SeedLine } from "./lines.ts";
export {
  type OutcomeResult,
  outcomeWebhookId,
  type PostOutcomeOptions,
  postOutcome,
} from "./outcome.ts";
export * from "./records.ts";
export {
  DEFAULT_CONCURRENCY,
  type SeedFilesOptions,
  type SeedFilesSummary,
  seedFiles,
} from "./seed-files.ts";
export {
  LEAD_MIX,
  type SimulateOptions,
  type SimulateSummary,
  simLeadWebhooks,
  simulateLeads,
} from "./simulate.ts";
export {
  formatSummary,
  type Progress,
  type Rejection,
  type Summary,
  succeeded,
  type Undelivered,
} from "./summary.ts";
export { DEFAULT_INGEST_URL, readDemoFile, resolveTarget, type Target } from "./target.ts";
