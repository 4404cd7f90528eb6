// apps/experiments: parse the environment once, then run the engine until a signal.
import { runMain } from "@pw/service";
import { experimentsConfig } from "./config.ts";
import { startExperiments } from "./start.ts";

await runMain("experiments", async () => startExperiments(experimentsConfig()));
