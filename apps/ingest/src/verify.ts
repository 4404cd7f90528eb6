/**
 * Standard Webhooks verification (standardwebhooks.com) with the reference
 * implementation: `webhook-id`, `webhook-timestamp`, `webhook-signature:
 * v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, constant-time compare,
 * 5-minute tolerance. Several secrets may be active at once during rotation.
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";

export type VerifyResult = { ok: true } | { ok: false; reason: string };

export function createVerifier(secrets: string[]) {
  if (secrets.length === 0) throw new Error("at least one webhook secret is required");
  const hooks = secrets.map((s) => new Webhook(s));
  return (body: string, headers: Record<string, string | string[] | undefined>): VerifyResult => {
    const flat: Record<string, string> = {};
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const v = headers[name];
      if (typeof v !== "string" || v.length === 0)
        return { ok: false, reason: `missing ${name} header` };
      flat[name] = v;
    }
    if (!/^\d{1,12}$/.test(flat["webhook-timestamp"]!)) {
      return { ok: false, reason: "webhook-timestamp must be Unix seconds" };
    }
    let reason = "signature does not match";
    for (const hook of hooks) {
      try {
        hook.verify(body, flat, { jsonParse: false });
        return { ok: true };
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        if (/too old|too new/.test(error.message)) {
          reason = `webhook-timestamp is outside the 5-minute tolerance (${error.message.toLowerCase()})`;
        }
      }
    }
    return { ok: false, reason };
  };
}

/** Signs like a sender would (tests, replay, benchmarks). */
export function signWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return new Webhook(secret).sign(id, new Date(timestampSeconds * 1000), body);
}
