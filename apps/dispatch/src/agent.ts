/**
 * Which outreach agent dispatch talks to: the one deployed on Truefoundry
 * (`TRUEFOUNDRY_AGENT_URL`, a static bearer or HS256 tokens minted from a shared secret),
 * or the same agent code in-process on dispatch's database (the embedded default).
 */
import { createLocalAgent } from "@pw/outreach-agent";
import { createAgentClient, hs256TokenProvider } from "@pw/outreach-agent/client";
import type { AgentPort } from "@pw/outreach-agent/contract";
import type { ServiceKit } from "@pw/service";
import type { DispatchConfig } from "./config.ts";

export async function agentFor(
  config: DispatchConfig,
  kit: Pick<ServiceKit, "db" | "logger">,
): Promise<{ port: AgentPort; provider: "truefoundry" | "local"; owned: boolean }> {
  const remote = config.agent;
  if (remote) {
    const port = createAgentClient({
      url: remote.url,
      ...(remote.token
        ? { token: remote.token }
        : {
            tokenProvider: hs256TokenProvider(remote.jwtSecret!, {
              ...(remote.issuer ? { issuer: remote.issuer } : {}),
              ...(remote.audience ? { audience: remote.audience } : {}),
            }),
          }),
      timeoutMs: remote.timeoutMs,
      logger: kit.logger,
    });
    return { port, provider: "truefoundry", owned: true };
  }
  if (!config.localAgent)
    throw new Error("dispatch config has neither an agent URL nor local channels");
  return {
    port: createLocalAgent(config.localAgent, { db: kit.db, logger: kit.logger }),
    provider: "local",
    owned: true,
  };
}
