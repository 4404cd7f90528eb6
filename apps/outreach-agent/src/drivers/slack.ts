/**
 * Slack through an incoming webhook: POST `{text}`, Slack answers `ok`. The webhook is
 * bound to one channel, so `to` is not sent (Slack ignores overrides on modern webhooks).
 * 429 and 5xx are transient; any other 4xx (`invalid_payload`, `channel_is_archived`,
 * `no_service`…) permanent. Slack returns no message id: ours stands in for it.
 */
import { renderSlack } from "../render.ts";
import type { ChannelDriver } from "./types.ts";
import { createWebhookPoster } from "./webhook.ts";

export function createSlackDriver(
  settings: { webhookUrl: string },
  options: { timeoutMs: number },
): ChannelDriver {
  const poster = createWebhookPoster({ timeoutMs: options.timeoutMs });
  return {
    channel: "slack",
    kind: "slack_webhook",
    async send(message) {
      const { text } = renderSlack(message);
      await poster.post(settings.webhookUrl, { text }, { what: "Slack webhook" });
      return { providerMessageId: `slack-${message.dispatchId}` };
    },
    // Not probed: the only way to test an incoming webhook is to post to the channel.
    check: async () => ({ status: "ok", reason: "configured (not probed: a probe would post)" }),
    close: () => poster.close(),
  };
}
