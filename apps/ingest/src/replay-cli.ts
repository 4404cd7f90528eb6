// `pnpm --filter @pw/ingest replay --route signals file.ndjson [more.ndjson]`
// Replays webhook bodies (one JSON object per line) through ingest's own
// validation and publishing path, against the configured bus and database.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createLogger } from "@pw/logger";
import { SingleBar } from "cli-progress";
import { loadIngestConfig } from "./config.ts";
import { replay } from "./replay.ts";
import { wireIngest } from "./wiring.ts";

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

const config = loadIngestConfig();
const logger = createLogger({ service: "ingest-replay", level: "warn" });
const { app, bus, handle } = await wireIngest(config, logger, {
  rateLimitPerSecond: Number.MAX_SAFE_INTEGER,
});

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
await app.close();
await bus.close();
await handle.close();
process.exit(failed ? 1 : 0);
