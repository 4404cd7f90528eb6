/**
 * The pages a person sees at an unsubscribe link: plain HTML, no scripts, no external
 * resources, nothing a link scanner's GET could trigger. The confirmation page's button
 * POSTs to the page's own URL (no `action`, so it works behind a path prefix too).
 */
import type { FastifyReply } from "fastify";

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2328}button{font:inherit;padding:.5rem 1.25rem;border:1px solid #1f2328;border-radius:6px;background:#1f2328;color:#fff;cursor:pointer}small{color:#59636e}";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** Sends a page with headers that keep it inert: no scripts, no framing, no referrer (the URL holds the token). */
export function sendPage(reply: FastifyReply, status: number, html: string) {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    .header("referrer-policy", "no-referrer")
    .header("x-content-type-options", "nosniff")
    .type("text/html; charset=utf-8")
    .send(html);
}

/** Asks before unsubscribing: GET shows this, only the button's POST unsubscribes. */
export function confirmPage(claim: { leadId: string; channel?: string | undefined }): string {
  const channel = claim.channel ? ` (${escapeHtml(claim.channel)})` : "";
  return page(
    "Unsubscribe?",
    `<p>Unsubscribe the recipient of this message from everything we send — no more messages on any channel.</p><p><small>Recipient reference: <code>${escapeHtml(claim.leadId)}</code>${channel}</small></p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function donePage(): string {
  return page(
    "You are unsubscribed",
    "<p>You will not hear from us again. If a message was already on its way, it may still arrive in the next few minutes.</p>",
  );
}

export function problemPage(message: string): string {
  return page("Unsubscribe", `<p>${escapeHtml(message)}</p>`);
}
