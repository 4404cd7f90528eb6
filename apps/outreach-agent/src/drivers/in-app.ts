/**
 * In-app messages through the product's webhook: POST JSON
 * `{leadId, to, subject, body, dispatchId}` with `Idempotency-Key: <dispatchId>` (a retry
 * after a timeout carries the same key, so the product can drop a duplicate), optionally
 * `Authorization: Bearer <IN_APP_WEBHOOK_TOKEN>`. Any 2xx is delivered; an `{id}` in the
 * answer becomes the provider id.
 */
import { renderInApp } from "../render.ts";
import type { ChannelDriver } from "./types.ts";
import { createWebhookPoster } from "./webhook.ts";

function idOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { id?: unknown };
    if (typeof parsed.id === "string" && parsed.id.length > 0) return parsed.id.slice(0, 300);
    if (typeof parsed.id === "number") return String(parsed.id);
  } catch {
    // Not JSON: the product did not name its message; ours stands in.
  }
  return undefined;
}

export function createInAppDriver(
  settings: { url: string; token?: string | undefined },
  options: { timeoutMs: number },
): ChannelDriver {
  const poster = createWebhookPoster({ timeoutMs: options.timeoutMs });
  return {
    channel: "in_app",
    kind: "in_app_webhook",
    async send(message) {
      const { subject, text } = renderInApp(message);
      const answer = await poster.post(
        settings.url,
        {
          leadId: message.leadId,
          to: message.to,
          subject,
          body: text,
          dispatchId: message.dispatchId,
        },
        {
          what: "in-app webhook",
          headers: {
            "idempotency-key": message.dispatchId,
            ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
          },
        },
      );
      return { providerMessageId: idOf(answer.text) ?? `in_app-${message.dispatchId}` };
    },
    check: async () => ({ status: "ok", reason: "configured (not probed: a probe would post)" }),
    close: () => poster.close(),
  };
}
