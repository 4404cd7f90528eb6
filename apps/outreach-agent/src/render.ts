/**
 * How a message looks on each channel — the one rendering both the live drivers and the
 * simulated inbox use, so that what the dashboard shows is exactly what the lead got.
 *
 * E-mail: a plain-text and an HTML part, both ending in a footer with the sender's postal
 * address and the unsubscribe line; `List-Unsubscribe` (https first, then mailto) and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) on every mail; a
 * Message-ID of ours (`<dispatchId@sender-domain>`) and `X-PW-Dispatch-Id`. An e-mail
 * without a one-click unsubscribe URL is not rendered at all (a permanent refusal).
 */
import { isLoopbackHost } from "./config.ts";
import { type OutboundMessage, PermanentDriverError } from "./drivers/types.ts";

export type RenderedMessage = {
  subject: string;
  /** The plain-text part (e-mail), or the whole message on other channels. */
  text: string;
  /** The HTML part (e-mail only). */
  html: string | null;
  /** The headers we set (e-mail only): From, To, Subject, Message-ID, List-*, X-PW-*. */
  headers: Record<string, string>;
};

export type Sender = {
  /** `Name <address@domain>`. */
  from: string;
  /** The right-hand side of our Message-IDs. */
  messageIdDomain: string;
};

/** Used when the request carries no footer text of its own. */
export const DEFAULT_UNSUBSCRIBE_TEXT = "Unsubscribe:";

/** A single address, nothing that could smuggle a second recipient or a header in. */
const EMAIL = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+\.[^\s@<>()",;:\\[\]]+$/;

export function messageIdFor(dispatchId: string, domain: string): string {
  return `<${dispatchId}@${domain}>`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** The one-click target: https (http only on loopback, the local demo), normalised. */
function unsubscribeUrl(raw: string | undefined): string {
  if (!raw)
    throw new PermanentDriverError(
      "e-mail refused: metadata.unsubscribe.url is required (RFC 8058 one-click unsubscribe)",
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PermanentDriverError("e-mail refused: metadata.unsubscribe.url is not a URL");
  }
  const local = url.protocol === "http:" && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !local)
    throw new PermanentDriverError(
      "e-mail refused: metadata.unsubscribe.url must be https:// (RFC 8058)",
    );
  // The WHATWG serialisation percent-encodes spaces and angle brackets and drops CR/LF, so
  // the value cannot end the <…> of the header early.
  return url.href;
}

/** `unsub@acme.com` or `mailto:unsub@acme.com?subject=…` → a mailto URI, or undefined. */
function unsubscribeMailto(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const value = raw.trim();
  if (/[\s<>"]/.test(value))
    throw new PermanentDriverError("e-mail refused: metadata.unsubscribe.mailto is malformed");
  return value.toLowerCase().startsWith("mailto:") ? value : `mailto:${value}`;
}

function paragraphsHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replaceAll("\n", "<br>\n")}</p>`)
    .join("\n");
}

const normalise = (text: string) => text.replace(/\r\n?/g, "\n").trim();

export function renderEmail(message: OutboundMessage, sender: Sender): RenderedMessage {
  const to = message.to.trim();
  if (!EMAIL.test(to))
    throw new PermanentDriverError("e-mail refused: `to` is not a single e-mail address");
  const url = unsubscribeUrl(message.metadata.unsubscribe?.url);
  const mailto = unsubscribeMailto(message.metadata.unsubscribe?.mailto);
  const footer = message.metadata.footer;
  const unsubscribeText = footer?.unsubscribeText.trim() || DEFAULT_UNSUBSCRIBE_TEXT;
  const postal = footer?.postalAddress.trim();
  const body = normalise(message.body);

  // "-- " (with the space) is the signature separator mail readers recognise.
  const text = [body, "", "-- ", ...(postal ? [postal] : []), `${unsubscribeText} ${url}`].join(
    "\n",
  );
  const html = [
    "<!doctype html>",
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(message.subject)}</title></head>`,
    '<body style="font-family:sans-serif;line-height:1.5">',
    paragraphsHtml(body),
    '<hr style="border:none;border-top:1px solid #ddd;margin-top:24px">',
    '<p style="font-size:12px;color:#666">',
    ...(postal ? [`${escapeHtml(postal).replaceAll("\n", "<br>\n")}<br>`] : []),
    `${escapeHtml(unsubscribeText)} <a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`,
    "</p>",
    "</body></html>",
  ].join("\n");

  return {
    subject: message.subject,
    text,
    html,
    headers: {
      From: sender.from,
      To: to,
      Subject: message.subject,
      "Message-ID": messageIdFor(message.dispatchId, sender.messageIdDomain),
      "List-Unsubscribe": mailto ? `<${url}>, <${mailto}>` : `<${url}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
      "X-PW-Dispatch-Id": message.dispatchId,
    },
  };
}

/** Slack mrkdwn: only &, < and > need escaping; the subject is the bold first line. */
export function renderSlack(message: OutboundMessage): RenderedMessage {
  const slackEscape = (s: string) =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const body = slackEscape(normalise(message.body));
  const subject = message.subject.trim();
  return {
    subject: message.subject,
    text: subject ? `*${slackEscape(subject)}*\n\n${body}` : body,
    html: null,
    headers: {},
  };
}

/** The product renders in-app messages itself; we hand it subject and body as they are. */
export function renderInApp(message: OutboundMessage): RenderedMessage {
  return { subject: message.subject, text: message.body, html: null, headers: {} };
}

/** LinkedIn has no live driver: the simulated inbox keeps the plain message. */
export function renderPlain(message: OutboundMessage): RenderedMessage {
  return { subject: message.subject, text: normalise(message.body), html: null, headers: {} };
}

export function renderFor(message: OutboundMessage, sender: Sender): RenderedMessage {
  switch (message.channel) {
    case "email":
      return renderEmail(message, sender);
    case "slack":
      return renderSlack(message);
    case "in_app":
      return renderInApp(message);
    case "linkedin":
      return renderPlain(message);
  }
}
