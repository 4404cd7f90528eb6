/**
 * One-click unsubscribe (RFC 8058). Dispatch puts `List-Unsubscribe: <…/unsubscribe/<token>>`
 * and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` in every e-mail; the token
 * (packages/events `unsubscribe-token.ts`) names the lead, request and channel and is
 * signed with a secret shared with dispatch.
 *
 * - `POST /unsubscribe/:token` — what a mail provider sends when the reader clicks
 *   "unsubscribe" (`List-Unsubscribe=One-Click`, form-encoded), and what the page's button
 *   sends. The token in the path is the authority: any body, of any type, or none, is
 *   accepted and ignored. It publishes an `unsubscribed` outcome on `outreach.outcomes.v1`
 *   and answers 200 only once the broker acknowledged; 503 + Retry-After when the broker
 *   or the database cannot take it, as the webhooks do.
 * - `GET /unsubscribe/:token` — a plain page with a button that POSTs to the same URL, for
 *   mail clients without one-click. A GET never unsubscribes: link scanners prefetch them.
 *
 * The event id is derived from the token's signed payload, so the same link clicked twice
 * (or verified under another of the rotating secrets) is the same event: ingest's receipts
 * answer the repeat 200 without publishing, and consumers' inboxes drop any copy.
 */

import { createHash } from "node:crypto";
import type { Bus } from "@pw/bus";
import { toMessage } from "@pw/bus";
import {
  envelope,
  type OutreachOutcomeV1,
  TopicSchemas,
  Topics,
  UnsubscribeTokenError,
  verifyUnsubscribeToken,
} from "@pw/events";
import type { Logger } from "@pw/logger";
import { withTimeout } from "@pw/resilience";
import { childTraceparent, isTraceparent, newTraceparent } from "@pw/service";
import { activeSpanTraceparent } from "@pw/telemetry";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { IngestOptions } from "./app.ts";
import { sendError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import type { Receipts } from "./receipts.ts";
import { confirmPage, donePage, problemPage, sendPage } from "./unsubscribe-page.ts";

export type UnsubscribeDeps = {
  bus: Bus;
  receipts: Receipts;
  metrics: Metrics;
  logger: Logger;
  /** Every secret a token may be signed with (rotation). Empty: not configured (503). */
  secrets: readonly string[];
  options: Pick<IngestOptions, "publishTimeoutMs" | "retryAfterSeconds">;
};

const SOURCE = "pw://ingest";
/** RFC 8058's body is 26 bytes; a form button's is about the same. */
const BODY_LIMIT = 16 * 1024;

/** What the unsubscribe counter counts a POST as. */
type Result = "unsubscribed" | "duplicate" | "invalid_token" | "unavailable" | "not_configured";

/**
 * The event id of a (verified) token's unsubscribe: the hash of its signed payload. Not of
 * the whole token — base64url decoding forgives padding and spare bits, so one signature
 * has several spellings, and a link verified under the old or the new secret is one click.
 */
export function unsubscribeEventId(token: string): string {
  const payload = token.split(".")[0] ?? token;
  return `unsub:${createHash("sha256").update(payload).digest("hex")}`;
}

/**
 * Receipts of unsubscribes are kept beside the outcomes webhook's (same topic), keyed
 * `unsubscribe:<hash>` — a key the webhook route's `outcomes:<webhook-id>` cannot take.
 */
const receiptKey = (eventId: string) => `unsubscribe:${eventId.slice("unsub:".length)}`;

type Accepted =
  | { status: 200; eventId: string; duplicate: boolean }
  | { status: 503; dependency: "database" | "broker" };

/** Registers the routes in their own scope: they take any body, unlike the webhooks. */
export async function registerUnsubscribe(root: FastifyInstance, deps: UnsubscribeDeps) {
  await root.register(async (app) => unsubscribeRoutes(app, deps));
}

function unsubscribeRoutes(app: FastifyInstance, deps: UnsubscribeDeps) {
  const { bus, receipts, metrics, logger, secrets, options } = deps;

  // RFC 8058 §3.1 says form-encoded; providers also send multipart, JSON, text or nothing.
  // The body says nothing the path does not, so whatever it is, it is read and dropped.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: BODY_LIMIT }, (_r, _b, done) =>
    done(null, undefined),
  );
  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _req, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE")
      return sendError(reply, 413, "body_too_large", `body exceeds ${BODY_LIMIT} bytes`);
    if (error.statusCode && error.statusCode < 500)
      return sendError(reply, error.statusCode, "bad_request", error.message);
    logger.error({ err: error }, "unhandled error in unsubscribe");
    return sendError(reply, 500, "internal", "internal error");
  });

  const count = (result: Result) => metrics.unsubscribes.inc({ result });
  /** A browser (the page's button) gets a page back; a mail provider gets JSON. */
  const wantsHtml = (req: FastifyRequest) => /\btext\/html\b/.test(req.headers.accept ?? "");

  /** The same token in flight twice in this process: the second waits for the first. */
  const inflight = new Map<string, Promise<Accepted>>();

  async function accept(event: OutreachOutcomeV1): Promise<Accepted> {
    const key = receiptKey(event.id);
    let seen: string | undefined;
    try {
      seen = await receipts.seen("outcomes", key);
    } catch (error) {
      logger.error({ err: error }, "receipt lookup failed");
      return { status: 503, dependency: "database" };
    }
    if (seen !== undefined) return { status: 200, eventId: seen, duplicate: true };
    const end = metrics.publishLatency.startTimer({ topic: Topics.outreachOutcomes });
    try {
      await withTimeout(
        () => bus.publish(Topics.outreachOutcomes, [toMessage(event)]),
        options.publishTimeoutMs,
      );
    } catch (error) {
      logger.warn({ err: error }, "unsubscribe publish failed; answering 503");
      return { status: 503, dependency: "broker" };
    }
    end();
    try {
      await receipts.record({ webhookId: key, source: "outcomes", eventId: event.id });
    } catch (error) {
      // On the broker, so done; a repeat would publish the same id again, which consumers drop.
      logger.error({ err: error, eventId: event.id }, "unsubscribe receipt not recorded");
    }
    return { status: 200, eventId: event.id, duplicate: false };
  }

  app.post("/unsubscribe/:token", async (req, reply) => {
    const html = wantsHtml(req);
    if (secrets.length === 0) {
      count("not_configured");
      return notConfigured(reply, html, options.retryAfterSeconds);
    }
    const { token } = req.params as { token: string };
    const claim = verify(token, secrets);
    if (!claim.ok) {
      count("invalid_token");
      return invalidToken(reply, html, claim.reason);
    }
    const event = envelope({
      id: unsubscribeEventId(token),
      type: "outreach.outcome.v1",
      source: SOURCE,
      subject: claim.leadId,
      traceparent: isTraceparent(req.headers.traceparent)
        ? childTraceparent(req.headers.traceparent)
        : (activeSpanTraceparent() ?? newTraceparent()),
      data: {
        outcome: "unsubscribed",
        occurredAt: new Date().toISOString(),
        ...(claim.requestId ? { requestId: claim.requestId } : {}),
        ...(claim.channel ? { channel: claim.channel } : {}),
      },
    }) satisfies OutreachOutcomeV1;
    // A token dispatch signed for a lead id the topic refuses is a bug there, not a 500 here.
    if (!TopicSchemas[Topics.outreachOutcomes].safeParse(event).success) {
      count("invalid_token");
      return invalidToken(reply, html, "the link names a lead that cannot be unsubscribed");
    }
    let pending = inflight.get(event.id);
    const first = !pending;
    if (!pending) {
      pending = accept(event).finally(() => inflight.delete(event.id));
      inflight.set(event.id, pending);
    }
    const outcome = await pending;
    if (outcome.status === 503) {
      count("unavailable");
      metrics.unavailable.inc({ dependency: outcome.dependency });
      reply.header("retry-after", String(options.retryAfterSeconds));
      if (html)
        return sendPage(
          reply,
          503,
          problemPage("We could not record this just now. Please try again in a minute."),
        );
      return sendError(
        reply,
        503,
        `${outcome.dependency}_unavailable`,
        `the ${outcome.dependency} cannot take the unsubscribe now; retry later`,
      );
    }
    const duplicate = outcome.duplicate || !first;
    count(duplicate ? "duplicate" : "unsubscribed");
    if (html) return sendPage(reply, 200, donePage());
    return reply.code(200).send({ unsubscribed: true, ...(duplicate ? { duplicate } : {}) });
  });

  app.get("/unsubscribe/:token", async (req, reply) => {
    if (secrets.length === 0) return notConfigured(reply, true, options.retryAfterSeconds);
    const { token } = req.params as { token: string };
    const claim = verify(token, secrets);
    if (!claim.ok) return invalidToken(reply, true, claim.reason);
    return sendPage(reply, 200, confirmPage(claim));
  });
}

function verify(
  token: string,
  secrets: readonly string[],
):
  | { ok: true; leadId: string; requestId?: string | undefined; channel?: string | undefined }
  | { ok: false; reason: string } {
  try {
    return { ok: true, ...verifyUnsubscribeToken(token, secrets) };
  } catch (error) {
    if (error instanceof UnsubscribeTokenError) return { ok: false, reason: error.message };
    throw error;
  }
}

function invalidToken(reply: FastifyReply, html: boolean, reason: string) {
  const message = `this unsubscribe link is not valid (${reason}); use the link from the e-mail exactly as it is`;
  if (html)
    return sendPage(
      reply,
      400,
      problemPage(
        "This unsubscribe link is not valid. It may have been cut short or changed — open it again from the e-mail, or reply to the e-mail asking to be removed.",
      ),
    );
  return sendError(reply, 400, "invalid_token", message);
}

function notConfigured(reply: FastifyReply, html: boolean, retryAfterSeconds: number) {
  reply.header("retry-after", String(retryAfterSeconds));
  if (html)
    return sendPage(
      reply,
      503,
      problemPage(
        "Unsubscribing is not available just now. Please reply to the e-mail asking to be removed.",
      ),
    );
  return sendError(reply, 503, "not_configured", "unsubscribe not configured");
}
