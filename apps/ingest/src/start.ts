/**
 * `startIngest(config, deps?)`: signed webhooks and the Lightfield poller onto the bus.
 * `main.ts`, the replay command, the tests, the benchmark and the one-process demo all
 * start it here.
 */
import { runService, type SharedDeps } from "@pw/service";
import { registerWebhooks } from "./app.ts";
import { type IngestConfig, ingestConfig } from "./config.ts";
import { createSelectLabelCache } from "./lightfield/select-labels.ts";
import { createMetrics } from "./metrics.ts";
import { createLightfieldClient } from "./poller/lightfield-client.ts";
import { createPoller } from "./poller/poller.ts";
import { createReceipts } from "./receipts.ts";
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
    },
    build: async (kit) => {
      const { lightfield } = config;
      // One Lightfield client and one definitions cache for the poller and the webhooks.
      const client = lightfield.apiKey
        ? createLightfieldClient({ baseUrl: lightfield.baseUrl, apiKey: lightfield.apiKey })
        : undefined;
      const labels = client ? createSelectLabelCache(client) : undefined;
      await registerWebhooks(kit.app, {
        bus: kit.bus,
        receipts: createReceipts(kit.db),
        verify: createVerifier(config.webhookSecrets),
        metrics: createMetrics(kit.metrics),
        logger: kit.logger,
        options: config.webhooks,
        ...(labels ? { labels } : {}),
      });
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
