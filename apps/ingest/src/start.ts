/**
 * `startIngest(config, deps?)`: signed webhooks, one-click unsubscribes and the Lightfield
 * poller onto the bus.
 * `main.ts`, the replay command, the tests, the benchmark and the one-process demo all
 * start it here.
 */
import { createLightfieldClient } from "@pw/lightfield";
import { runService, type SharedDeps } from "@pw/service";
import { registerWebhooks } from "./app.ts";
import { type IngestConfig, ingestConfig } from "./config.ts";
import { createSelectLabelCache } from "./lightfield/select-labels.ts";
import { createMetrics } from "./metrics.ts";
import { createPoller } from "./poller/poller.ts";
import { createReceipts } from "./receipts.ts";
import { registerUnsubscribe } from "./unsubscribe.ts";
import { createVerifier } from "./verify.ts";

export async function startIngest(config: IngestConfig = ingestConfig(), deps: SharedDeps = {}) {
  return runService({
    name: "ingest",
    config,
    deps,
    fastify: {
      bodyLimit: config.webhooks.bodyLimit,
      // Proto-poisoning checks happen in the webhook parser; no request ids from headers.
      requestIdHeader: false,
      // Unsubscribe tokens ride in the path and run past the default 100 characters
      // (a longer param is a 404); the token check refuses anything over 2,048.
      routerOptions: { maxParamLength: 4_096 },
    },
    build: async (kit) => {
      const { lightfield } = config;
      // One Lightfield client and one definitions cache for the poller and the webhooks.
      const client = lightfield.apiKey
        ? createLightfieldClient({ baseUrl: lightfield.baseUrl, apiKey: lightfield.apiKey })
        : undefined;
      const labels = client ? createSelectLabelCache(client) : undefined;
      const receipts = createReceipts(kit.db);
      const metrics = createMetrics(kit.metrics);
      await registerWebhooks(kit.app, {
        bus: kit.bus,
        receipts,
        verify: createVerifier(config.webhookSecrets),
        metrics,
        logger: kit.logger,
        options: config.webhooks,
        ...(labels ? { labels } : {}),
      });
      await registerUnsubscribe(kit.app, {
        bus: kit.bus,
        receipts,
        metrics,
        logger: kit.logger.child({ component: "unsubscribe" }),
        secrets: config.unsubscribeSecrets,
        options: config.webhooks,
      });
      kit.check("unsubscribe", async () =>
        config.unsubscribeSecrets.length > 0
          ? { status: "ok" }
          : { status: "not_configured", reason: "UNSUBSCRIBE_SECRETS is not set" },
      );
      const poller =
        lightfield.pollerEnabled && client
          ? createPoller({
              client,
              ...(labels ? { labels } : {}),
              db: kit.db,
              bus: kit.bus,
              logger: kit.logger.child({ component: "lightfield-poller" }),
              intervalMs: lightfield.pollIntervalMs,
            })
          : undefined;
      kit.check("lightfield_poller", async () =>
        poller ? { status: "ok" } : { status: "not_configured" },
      );
      if (poller) {
        poller.start();
        kit.onStop("lightfield-poller", () => poller.stop());
      }
      return { poller };
    },
  });
}
export { ingestConfig } from "./config.ts";
export type RunningIngest = Awaited<ReturnType<typeof startIngest>>;
