// apps/gateway: parse the environment once, then serve the operators' API until a signal.
import { runMain } from "@pw/service";
import { gatewayConfig } from "./config.ts";
import { startGateway } from "./start.ts";

await runMain("gateway", async () => startGateway(gatewayConfig()));
