/**
 * Posting to the stack's ingest as a webhook sender does: Standard Webhooks signatures
 * (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed by the base64 after
 * `whsec_`), made with node:crypto because root scripts cannot import @pw/ingest's
 * `signed`; and the bench's leads.
 */
import { createHmac, randomUUID } from "node:crypto";

export function signatureHeaders(secret: string, body: string, id = `msg_${randomUUID()}`) {
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${signature}`,
  };
}

export type Webhook = { path: string; body: unknown };

const TITLES = ["VP Engineering", "Head of Growth", "CTO", "Engineering Manager", "Founder"];
const INDUSTRIES = ["software", "fintech", "healthcare", "retail", "manufacturing"];
const ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"];
const SIGNALS = ["demo_requested", "pricing_viewed", "trial_started"];

/**
 * One lead in one webhook: the site's form fill (`demo_requested`, `pricing_viewed` or
 * `trial_started`) naming lead `lf_<prefix>-<i>` and carrying what the form asked — name,
 * work e-mail, title, company, size, industry, time zone. A lead with intent, so the
 * engine contacts it: every lead travels the whole path, webhook to send. Deterministic
 * in `i`.
 */
export function leadWebhook(prefix: string, i: number): Webhook & { leadId: string } {
  const leadId = `lf_${prefix}-${i}`;
  const domain = `${prefix}-co${i % 997}.example`;
  return {
    leadId,
    path: "/webhooks/signals",
    body: {
      type: SIGNALS[i % SIGNALS.length],
      occurredAt: new Date().toISOString(),
      leadId,
      profile: {
        email: `lead.${i}@${domain}`,
        firstName: "Lead",
        lastName: `No${i}`,
        title: TITLES[i % TITLES.length],
        company: `Company ${i % 997}`,
        domain,
        industry: INDUSTRIES[i % INDUSTRIES.length],
        employees: 50 + ((i * 37) % 2000),
        timezone: ZONES[i % ZONES.length],
      },
    },
  };
}

/** POSTs one signed webhook; resolves with the status and the answer's body. */
export async function postWebhook(
  baseUrl: string,
  secret: string,
  hook: Webhook,
): Promise<{ status: number; text: string }> {
  const body = JSON.stringify(hook.body);
  const res = await fetch(`${baseUrl}${hook.path}`, {
    method: "POST",
    headers: signatureHeaders(secret, body),
    body,
  });
  return { status: res.status, text: await res.text() };
}
