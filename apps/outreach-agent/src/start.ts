/**
 * `startOutreachAgent(config, deps?)`: the outreach agent as an HTTP service on the kit
 * (no bus: it talks HTTP only) — `POST /v1/dispatch`, `GET /v1/inbox`, `/healthz`,
 * `/readyz` (a check per channel, never required) and `/metrics`
 * (`pw_agent_dispatches_total{channel,result}`). `main.ts`, the tests and anything that
 * wants the agent over HTTP start it here.
 *
 * `createLocalAgent(config, {db, logger})`: the same core in-process, for dispatch when
 * no TRUEFOUNDRY_AGENT_URL is set (the embedded demo) — no HTTP, no token.
 */
import type { Db } from "@pw/db";
import type { Logger } from "@pw/logger";
import { runService, type SharedDeps } from "@pw/service";
import { authWarnings, createTokenVerifier } from "./auth.ts";
import { type AgentConfig, agentConfig } from "./config.ts";
import { AgentChannel } from "./contract.ts";
import { type AgentCore, createAgentCore } from "./core.ts";
import { createDrivers, describeDrivers } from "./drivers/index.ts";
import type { ChannelDriver } from "./drivers/types.ts";
import { registerAgentRoutes } from "./routes.ts";

export type OutreachAgentDeps = SharedDeps & {
  /** Tests: a clock for the stale-send limit and the inbox timestamps. */
  now?: () => Date;
  /** Tests: drivers instead of the configured ones (one per channel they serve). */
  drivers?: readonly ChannelDriver[];
};

export async function startOutreachAgent(
  config: AgentConfig = agentConfig({}),
  deps: OutreachAgentDeps = {},
) {
  return runService({
    name: "outreach-agent",
    bus: false,
    config,
    deps,
    build: (kit) => {
      const drivers = deps.drivers
        ? new Map(deps.drivers.map((d) => [d.channel, d]))
        : createDrivers(config.channels, { db: kit.db, ...(deps.now ? { now: deps.now } : {}) });
      const dispatches = kit.metrics.counter(
        "pw_agent_dispatches_total",
        "Dispatch calls by channel and how they ended: sent, failed, replayed (idempotent repeat), in_progress (409), unavailable (503, channel down), rejected (4xx)",
        ["channel", "result"],
      );
      const core = createAgentCore({
        db: kit.db,
        drivers,
        logger: kit.logger,
        sendingStaleMs: config.sendingStaleMs,
        ...(deps.now ? { now: deps.now } : {}),
        onResult: (channel, result) => dispatches.inc({ channel, result }),
      });
      kit.onStop("channels", () => core.close());
      for (const channel of AgentChannel.options) {
        const driver = drivers.get(channel);
        kit.check(`channel_${channel}`, async () =>
          !driver
            ? { status: "not_configured", reason: "refused: answered failed" }
            : driver.check
              ? driver.check()
              : { status: "ok" },
        );
      }
      kit.logger.info({ channels: describeDrivers(drivers) }, "channel drivers");

      const verifier = createTokenVerifier(config.auth);
      for (const warning of authWarnings(config.auth, verifier)) kit.logger.warn(warning);
      registerAgentRoutes(kit.app, { core, verifier, db: kit.db });
      return { core };
    },
  });
}
export type RunningOutreachAgent = Awaited<ReturnType<typeof startOutreachAgent>>;

/**
 * The agent in-process: the AgentPort dispatch uses without TRUEFOUNDRY_AGENT_URL. Channels
 * come from `config.channels` (the embedded demo sets AGENT_UNCONFIGURED_CHANNELS=simulate,
 * so unconfigured channels land in the simulated inbox). `close()` closes the drivers, not
 * the database.
 */
export function createLocalAgent(
  config: Pick<AgentConfig, "channels" | "sendingStaleMs">,
  deps: { db: Db; logger: Logger; now?: () => Date },
): AgentCore {
  const logger = deps.logger.child({ component: "outreach-agent" });
  const drivers = createDrivers(config.channels, {
    db: deps.db,
    ...(deps.now ? { now: deps.now } : {}),
  });
  logger.info({ channels: describeDrivers(drivers) }, "in-process outreach agent");
  return createAgentCore({
    db: deps.db,
    drivers,
    logger,
    sendingStaleMs: config.sendingStaleMs,
    ...(deps.now ? { now: deps.now } : {}),
  });
}

export { type AgentConfig, agentConfig } from "./config.ts";
export * from "./contract.ts";
export type { AgentCore, DispatchResult } from "./core.ts";
export { createAgentCore } from "./core.ts";
