// apps/scoring: parse the environment once, then run the service until a signal.
import { runMain } from "@pw/service";
import { scoringConfig } from "./config.ts";
import { startScoring } from "./start.ts";

await runMain("scoring", async () => startScoring(scoringConfig()));
