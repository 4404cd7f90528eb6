// apps/ingest: parse the environment once, then serve webhooks until a signal.
import { runMain } from "@pw/service";
import { ingestConfig } from "./config.ts";
import { startIngest } from "./start.ts";

await runMain("ingest", async () => startIngest(ingestConfig()));
