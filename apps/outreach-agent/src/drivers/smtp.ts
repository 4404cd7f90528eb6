/**
 * E-mail over SMTP (nodemailer, a small connection pool). The message is rendered by
 * render.ts — the same rendering the simulated inbox stores — and sent with our own
 * Message-ID, which is the provider id we return. SMTP's verdicts map onto ours: a 4yz
 * reply, a dropped connection or a timeout is transient (a retry may deliver), a 5yz reply
 * is permanent (RFC 5321), except 503 (bad sequence: a new connection may do) and a refused
 * login (the operator's to fix, not the message's).
 */
import type { CheckResult } from "@pw/service";
import { createTransport } from "nodemailer";
import type { SmtpSettings } from "../config.ts";
import { renderEmail } from "../render.ts";
import {
  type ChannelDriver,
  DriverError,
  PermanentDriverError,
  TransientDriverError,
} from "./types.ts";

type SmtpError = Error & { code?: string; responseCode?: number; response?: string };

/** Connection-level failures: nothing was refused, the server could not be talked to. */
const CONNECTION_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ETLS",
  "EPROXY",
  "EMAXLIMIT",
  // Our credentials were refused or missing: a configuration problem that a retry after the
  // fix gets through, never a reason to give up on this lead's message.
  "EAUTH",
  "ENOAUTH",
]);

/** A nodemailer failure as our verdict. */
export function classifySmtpError(error: unknown): DriverError {
  if (error instanceof DriverError) return error;
  const e = error as SmtpError;
  const reply = e.response ? `: ${e.response.slice(0, 300)}` : "";
  if (typeof e.responseCode === "number") {
    const code = e.responseCode;
    const permanent = code >= 500 && code < 600 && code !== 503 && e.code !== "EAUTH";
    const message = `SMTP server answered ${code}${reply || `: ${e.message}`}`;
    return permanent
      ? new PermanentDriverError(message, { cause: error })
      : new TransientDriverError(message, { cause: error });
  }
  if (e.code && CONNECTION_CODES.has(e.code))
    return new TransientDriverError(`SMTP ${e.code}: ${e.message}`, { cause: error });
  // Socket errors from Node itself (ECONNREFUSED…) sometimes come through unwrapped.
  if (e.code && /^E[A-Z]+$/.test(e.code) && !["EENVELOPE", "EMESSAGE", "ECONFIG"].includes(e.code))
    return new TransientDriverError(`SMTP ${e.code}: ${e.message}`, { cause: error });
  return new PermanentDriverError(`SMTP ${e.code ?? "error"}: ${e.message}`, { cause: error });
}

/** How long a `/readyz` answer about the SMTP server is reused (each one is a login). */
const CHECK_CACHE_MS = 30_000;

export function createSmtpDriver(
  settings: SmtpSettings,
  options: { timeoutMs: number },
): ChannelDriver {
  const transport = createTransport({
    pool: true,
    maxConnections: 5,
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTLS,
    ...(settings.auth ? { auth: settings.auth } : {}),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    // Nothing we send refers to files or URLs to inline; refuse them outright.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const sender = { from: settings.from, messageIdDomain: settings.messageIdDomain };
  let lastCheck: { at: number; result: CheckResult } | undefined;

  return {
    channel: "email",
    kind: "smtp",
    async send(message) {
      const rendered = renderEmail(message, sender);
      const { From, To, Subject, "Message-ID": messageId, ...headers } = rendered.headers;
      try {
        await transport.sendMail({
          from: From,
          to: To,
          subject: Subject,
          text: rendered.text,
          html: rendered.html ?? undefined,
          messageId,
          headers,
        });
      } catch (error) {
        throw classifySmtpError(error);
      }
      return { providerMessageId: messageId! };
    },
    async check() {
      if (lastCheck && Date.now() - lastCheck.at < CHECK_CACHE_MS) return lastCheck.result;
      let result: CheckResult;
      try {
        await transport.verify();
        result = { status: "ok" };
      } catch (error) {
        result = { status: "down", reason: classifySmtpError(error).message.slice(0, 300) };
      }
      lastCheck = { at: Date.now(), result };
      return result;
    },
    async close() {
      transport.close();
    },
  };
}
