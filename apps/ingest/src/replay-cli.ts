// `pnpm --filter @pw/ingest replay --route signals file.ndjson [more.ndjson]`
// Replays webhook bodies (one JSON object per line) through ingest's own
// validation and publishing path, against the configured bus and database.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createLogger } from "@pw/logger";
import { SingleBar } from "cli-progress";
import { loadIngestConfig } from "./config.ts";
import { replay } from "./replay.ts";
import { startIngest } from "./start.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { route: { type: "string" }, concurrency: { type: "string", default: "16" } },
});
const route = values.route;
if (route !== "lightfield" && route !== "signals" && route !== "outcomes") {
  console.error("usage: replay --route lightfield|signals|outcomes <file.ndjson>...");
  process.exit(2);
}
if (positionals.length === 0) {
  console.error("replay: name at least one NDJSON file");
  process.exit(2);
}

const loaded = loadIngestConfig();
// The same service as `main`, minus the listening socket, the poller and the rate limit.
const config = {
  ...loaded,
  webhooks: { ...loaded.webhooks, rateLimitPerSecond: Number.MAX_SAFE_INTEGER },
  lightfield: { ...loaded.lightfield, pollerEnabled: false },
};
const logger = createLogger({ service: "ingest-replay", level: "warn" });
const ingest = await startIngest(config, { logger, listen: false });
const { app } = ingest;

let failed = false;
for (const file of positionals) {
  const text = await readFile(file, "utf8");
  const bar = new SingleBar({
    format: `${file} [{bar}] {value}/{total} lines | {eta}s left`,
    stream: process.stderr,
  });
  let started = false;
  const summary = await replay(app, text, {
    route,
    secret: config.webhookSecrets[0]!,
    concurrency: Number(values.concurrency),
    onProgress: (done, total) => {
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  if (started) bar.stop();
  console.log(
    JSON.stringify({ file, ...summary, rejected: summary.rejected.slice(0, 50) }, null, 2),
  );
  if (summary.rejected.length > 0) failed = true;
}
await ingest.stop();
process.exit(failed ? 1 : 0);
