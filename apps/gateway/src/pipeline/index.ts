/**
 * Pipeline health in the gateway, from what the services publish: their heartbeats on
 * `service.health.v1` (read with a consumer group of this process's own, so every gateway
 * instance sees every heartbeat) and the DLQs (likewise), behind `/api/health`,
 * `/api/dlq` and `POST /api/commands/dlq-redrive`. Readiness flips go to the live stream
 * through the read model. Nothing here reads another service's tables.
 */
import { randomUUID } from "node:crypto";
import { ALL_TOPICS, Topics } from "@pw/events";
import type { ServiceKit } from "@pw/service";
import type { Auth } from "../auth/index.ts";
import type { ReadModel } from "../read/index.ts";
import { dlqWatch } from "./dlq.ts";
import { healthBoard } from "./health.ts";
import { registerPipelineRoutes } from "./routes.ts";

export { DLQ_VIEW_MAX, type DlqEntry, type DlqWatch, dlqWatch } from "./dlq.ts";
export { type HealthBoard, healthBoard, STALE_INTERVALS } from "./health.ts";
export { REDRIVE_COMMAND_TYPE } from "./routes.ts";

export async function watchPipeline(
  kit: ServiceKit,
  o: { model: Pick<ReadModel, "handle">; guard: Auth["guard"] },
) {
  const logger = kit.logger.child({ component: "pipeline" });
  const own = randomUUID().slice(0, 8);
  const intervalMs = kit.config.health?.everyMs ?? 5_000;

  const board = healthBoard({
    onFlip: (change) => {
      o.model
        .handle(Topics.serviceHealth, change)
        .catch((error) =>
          logger.warn(
            { err: error, service: change.data.service, instance: change.data.instance },
            "readiness change not written to the live stream",
          ),
        );
    },
  });
  await kit.subscribe({
    topic: Topics.serviceHealth,
    groupId: `gateway.health.${own}`,
    // Only what is said from now on: an old heartbeat is no news.
    fromBeginning: false,
    maxAttempts: 1,
    handler: async (event) => {
      if (event.type !== "service.health.v1") return "ignored";
      board.heard(event);
      return "heard";
    },
  });
  kit.every("health-sweep", Math.min(1_000, intervalMs || 1_000), async () => board.sweep());

  const tool = kit.dlqTool();
  const watch = dlqWatch({ bus: kit.bus, tool, logger, groupId: `gateway.dlq.${own}` });
  const subscriptions = await watch.subscribe(ALL_TOPICS);
  kit.onStop("dlq-view", () => Promise.all(subscriptions.map((s) => s.close())));

  registerPipelineRoutes(kit.app, {
    db: kit.db,
    guard: o.guard,
    board,
    watch,
    readiness: () => kit.readiness(),
    canRedrive: tool !== undefined,
    intervalMs,
    logger,
  });
  return { board, watch };
}
