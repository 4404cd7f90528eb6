/**
 * `startGateway(config, deps?)`: the operators' API on the service kit — sign-in and
 * sessions, signed and audited operator commands on `operator.commands.v1` (through the
 * gateway's own outbox), the audit log, the playbook preview and the OpenAPI document.
 * `main.ts`, the tests and the one-process demo all start it here.
 */
import * as schema from "@pw/db/gateway";
import { runService, type SharedDeps } from "@pw/service";
import { createAuth } from "./auth/index.ts";
import { pruneSessions } from "./auth/sessions.ts";
import { registerCommandRoutes } from "./commands/index.ts";
import { type GatewayConfig, gatewayConfig } from "./config.ts";
import { registerDemoRoutes } from "./demo/index.ts";
import { openApiDocument } from "./openapi.ts";
import { watchPipeline } from "./pipeline/index.ts";
import { createLiveHub, readModel, registerReadRoutes } from "./read/index.ts";
import { registerWhatIfRoute } from "./whatif/index.ts";

export async function startGateway(config: GatewayConfig = gatewayConfig(), deps: SharedDeps = {}) {
  return runService({
    name: "gateway",
    config,
    deps,
    build: async (kit) => {
      const { outbox, relay } = kit.messaging({
        outbox: schema.gatewayOutbox,
        inbox: schema.gatewayInbox,
      });
      const auth = createAuth({
        db: kit.db,
        config,
        logger: kit.logger.child({ component: "auth" }),
      });
      await auth.bootstrap();
      await auth.register(kit.app);
      kit.every("prune-sessions", 600_000, () => pruneSessions(kit.db));

      kit.check("command_signing", async () =>
        config.signing
          ? { status: "ok" }
          : {
              status: "not_configured",
              reason:
                "OPERATOR_COMMAND_PRIVATE_KEY / OPERATOR_COMMAND_KEY_ID unset: commands answer 503",
            },
      );
      if (!config.signing)
        kit.logger.warn(
          "OPERATOR_COMMAND_PRIVATE_KEY and OPERATOR_COMMAND_KEY_ID are not set: every command answers 503 (docs/adr/0009-operator-command-auth.md).",
        );
      registerDemoRoutes(kit.app, {
        db: kit.db,
        guard: auth.guard,
        settings: config.demo,
        logger: kit.logger.child({ component: "demo" }),
      });
      registerCommandRoutes(kit.app, {
        db: kit.db,
        guard: auth.guard,
        outbox,
        relay,
        signing: config.signing,
        logger: kit.logger.child({ component: "commands" }),
      });

      // The read side: every topic projected into the gateway's own tables, live to SSE clients.
      const hub = createLiveHub({ db: kit.db, logger: kit.logger.child({ component: "live" }) });
      kit.onStop("live-stream", () => hub.close());
      const model = readModel({
        db: kit.db,
        logger: kit.logger.child({ component: "read-model" }),
        hub,
      });
      registerReadRoutes(kit.app, { db: kit.db, hub, guard: auth.guard });
      await model.subscribeAll(kit);
      kit.every("prune-stream", 3_600_000, () =>
        model.prune(new Date(Date.now() - config.streamRetentionMs)),
      );
      const clients = kit.metrics.gauge(
        "pw_gateway_stream_clients",
        "Connected live-stream clients",
      );
      const queued = kit.metrics.gauge(
        "pw_gateway_stream_queued",
        "Rows held in memory for live-stream clients that are behind",
      );
      kit.beforeScrape(async () => {
        clients.set(hub.clients());
        queued.set(hub.queued());
      });

      // Pipeline health (heartbeats, DLQs and redrive) and the experiments' what-if.
      const pipeline = await watchPipeline(kit, { model, guard: auth.guard });
      registerWhatIfRoute(kit.app, {
        db: kit.db,
        guard: auth.guard,
        retentionMs: config.streamRetentionMs,
      });

      kit.app.get("/openapi.json", async () => openApiDocument());
      return { auth, relay, hub, model, pipeline };
    },
  });
}
export { createAuth } from "./auth/index.ts";
export { recordCommandResult } from "./commands/index.ts";
export { gatewayConfig } from "./config.ts";
export type RunningGateway = Awaited<ReturnType<typeof startGateway>>;
