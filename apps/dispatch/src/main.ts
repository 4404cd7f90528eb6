// apps/dispatch: parse the environment once, then dispatch until a signal.
import { runMain } from "@pw/service";
import { dispatchConfig } from "./config.ts";
import { startDispatch } from "./start.ts";

await runMain("dispatch", async () => startDispatch(dispatchConfig()));
