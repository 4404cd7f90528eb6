// apps/outreach-agent: parse the environment once, then serve the agent until a signal.
import { runMain } from "@pw/service";
import { agentConfig } from "./config.ts";
import { startOutreachAgent } from "./start.ts";

await runMain("outreach-agent", () => startOutreachAgent(agentConfig()));
