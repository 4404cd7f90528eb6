/**
 * Ingest's routes: three signed webhook routes onto the bus, plus API docs, registered
 * on the service's app (the kit adds health, readiness and metrics).
 *
 * A 202 means the event is on the broker (acks=all). If the broker or the
 * database cannot take it, the sender gets 503 with Retry-After and retries.
 */
import type { Bus } from "@pw/bus";
import { toMessage } from "@pw/bus";
import { type TopicName, TopicSchemas } from "@pw/events";
import type { Logger } from "@pw/logger";
import { childTraceparent, isTraceparent, newTraceparent } from "@pw/service";
import { activeSpanTraceparent, startEventSpan } from "@pw/telemetry";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import sjson from "secure-json-parse";
import type { z } from "zod";
import { futureIssue, MAX_FUTURE_SKEW_MS } from "./clock-skew.ts";
import { sendError, zodIssues } from "./errors.ts";
import type { SelectLabels } from "./lightfield/record.ts";
import type { SelectLabelCache } from "./lightfield/select-labels.ts";
import type { Metrics } from "./metrics.ts";
import {
  eventIdFor,
  type Normalized,
  NormalizeError,
  normalizeLightfield,
  normalizeOutcome,
  normalizeSignal,
  objectTypeOfEvent,
} from "./normalize.ts";
import { docsPage, openApiDocument } from "./openapi.ts";
import { deliveryKey, type Receipts, seenDelivery, type WebhookRoute } from "./receipts.ts";
import type { createVerifier } from "./verify.ts";
import {
  type Lifted,
  LightfieldWebhook,
  liftLightfieldBody,
  OutcomeWebhook,
  SignalWebhook,
} from "./wire.ts";

export type IngestDeps = {
  bus: Bus;
  receipts: Receipts;
  verify: ReturnType<typeof createVerifier>;
  metrics: Metrics;
  logger: Logger;
  options: IngestOptions;
  /** Lightfield's select labels, when ingest has an API key (shared with the poller). */
  labels?: SelectLabelCache;
};

/** How long a webhook waits for Lightfield's field definitions before keeping option ids. */
const LABELS_TIMEOUT_MS = 2_000;

export type IngestOptions = {
  /** Largest accepted body in bytes. */
  bodyLimit: number;
  /** Requests per second per client address before 429. */
  rateLimitPerSecond: number;
  /** What 503 answers tell senders to wait. */
  retryAfterSeconds: number;
  /** Deepest JSON nesting accepted. */
  maxDepth: number;
  /** Longest we wait for the broker before answering 503. */
  publishTimeoutMs: number;
  /** How far ahead of our clock an `occurredAt` may be; default `MAX_FUTURE_SKEW_MS` (5 minutes). */
  maxFutureSkewMs?: number;
};

type Route = {
  path: string;
  name: WebhookRoute;
  schema: z.ZodType<{ occurredAt: string }>;
  /** Reshapes what senders post before validation (Lightfield: wrappers, `?type=`, `_diff`). */
  lift?: (json: Record<string, unknown>, query: Record<string, unknown>) => Lifted;
  /** `id`: the event id, from the route and the webhook-id; `raw`: the JSON as posted. */
  normalize: (body: never, id: string, raw: unknown, labels?: SelectLabels) => Normalized;
};

const ROUTES: Route[] = [
  {
    path: "/webhooks/lightfield",
    name: "lightfield",
    schema: LightfieldWebhook,
    lift: (json, query) =>
      liftLightfieldBody(json, typeof query.type === "string" ? query.type : undefined),
    normalize: (body: LightfieldWebhook, id: string, raw: unknown, labels?: SelectLabels) =>
      normalizeLightfield({ ...body, raw }, id, "lightfield_webhook", labels),
  },
  { path: "/webhooks/signals", name: "signals", schema: SignalWebhook, normalize: normalizeSignal },
  {
    path: "/webhooks/outcomes",
    name: "outcomes",
    schema: OutcomeWebhook,
    normalize: normalizeOutcome,
  },
];

// ignoreBOM keeps a byte-order mark in the text: the signature is over the bytes as sent.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const BOM = "\uFEFF";

type Outcome =
  | { status: 202 | 200; body: Record<string, unknown> }
  | { status: 503; dependency: string };

/** Registers the webhook routes in their own scope (their parsers and error shapes stay theirs). */
export async function registerWebhooks(root: FastifyInstance, deps: IngestDeps) {
  await root.register(async (app) => webhookRoutes(app, deps));
}

function webhookRoutes(app: FastifyInstance, deps: IngestDeps) {
  const opts = deps.options;
  async function ensureLabels(body: unknown) {
    const { type, object } = body as { type?: string; object?: { fields?: unknown } };
    const objectType = type ? objectTypeOfEvent(type) : undefined;
    if (!objectType || !object?.fields || typeof object.fields !== "object") return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.labels!.ensure(objectType, [object as { fields: Record<string, never> }]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, LABELS_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      deps.logger.warn(
        { err: error, objectType },
        "Lightfield definitions unavailable; option ids kept",
      );
    } finally {
      clearTimeout(timer);
    }
  }
  const { bus, receipts, verify, metrics, logger } = deps;

  // JSON only (no text/plain), kept as raw bytes: the signature is over them, not
  // over a re-serialisation.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/json",
    { parseAs: "buffer", bodyLimit: opts.bodyLimit },
    (_req, body, done) => done(null, body),
  );

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _req, reply) => {
    switch (error.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendError(reply, 413, "body_too_large", `body exceeds ${opts.bodyLimit} bytes`);
      case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
        return sendError(
          reply,
          415,
          "unsupported_media_type",
          "content-type must be application/json",
        );
      case "FST_ERR_CTP_EMPTY_JSON_BODY":
        return sendError(reply, 400, "empty_body", "body is empty");
      case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
        return sendError(
          reply,
          400,
          "bad_content_length",
          "content-length does not match the body",
        );
    }
    if (error.statusCode && error.statusCode < 500) {
      return sendError(reply, error.statusCode, "bad_request", error.message);
    }
    logger.error({ err: error }, "unhandled error");
    return sendError(reply, 500, "internal", "internal error");
  });

  // Fixed-window rate limit per client address, checked before any work is done.
  const windows = new Map<string, { second: number; count: number }>();
  app.addHook("onRequest", async (req, reply) => {
    if (!req.url.startsWith("/webhooks/")) return;
    const second = Math.floor(Date.now() / 1000);
    const w = windows.get(req.ip);
    if (!w || w.second !== second) {
      if (windows.size > 10_000) windows.clear();
      windows.set(req.ip, { second, count: 1 });
      return;
    }
    if (++w.count > opts.rateLimitPerSecond) {
      reply.header("retry-after", "1");
      return sendError(
        reply,
        429,
        "rate_limited",
        `more than ${opts.rateLimitPerSecond} requests per second from ${req.ip}`,
      );
    }
  });

  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    if (route.startsWith("/webhooks/"))
      metrics.requests.inc({ route, status: String(reply.statusCode) });
  });

  /** Same delivery (route, webhook id) twice in flight in this process: the second waits for the first. */
  const inflight = new Map<string, Promise<Outcome>>();

  async function accept(route: Route, webhookId: string, normalized: Normalized): Promise<Outcome> {
    let seen: string | undefined;
    try {
      seen = await seenDelivery(receipts, route.name, webhookId);
    } catch (error) {
      logger.error({ err: error }, "receipt lookup failed");
      return { status: 503, dependency: "database" };
    }
    if (seen !== undefined) {
      metrics.dedupeHits.inc({ route: route.name });
      return { status: 200, body: { duplicate: true, eventId: seen } };
    }
    const end = metrics.publishLatency.startTimer({ topic: normalized.topic });
    try {
      await withTimeout(
        bus.publish(normalized.topic, [toMessage(normalized.event)]),
        opts.publishTimeoutMs,
      );
    } catch (error) {
      logger.warn({ err: error, topic: normalized.topic }, "publish failed; answering 503");
      return { status: 503, dependency: "broker" };
    }
    end();
    try {
      await receipts.record({
        webhookId: deliveryKey(route.name, webhookId),
        source: route.name,
        eventId: normalized.event.id,
      });
    } catch (error) {
      // The event is on the broker: it is accepted. Without the receipt a later
      // duplicate would be published again, with the same event id, which
      // consumers drop; so log and answer 202.
      logger.error({ err: error, webhookId }, "receipt not recorded after publish");
    }
    return { status: 202, body: { accepted: true, eventId: normalized.event.id } };
  }

  for (const route of ROUTES) {
    app.post(route.path, async (req: FastifyRequest, reply: FastifyReply) => {
      const raw = req.body;
      if (!Buffer.isBuffer(raw) || raw.length === 0)
        return sendError(reply, 400, "empty_body", "body is empty");
      let text: string;
      try {
        text = utf8.decode(raw);
      } catch {
        return sendError(reply, 400, "invalid_utf8", "body is not valid UTF-8");
      }
      const verified = verify(text, req.headers);
      if (!verified.ok) return sendError(reply, 401, "invalid_signature", verified.reason);
      const webhookId = req.headers["webhook-id"] as string;
      if (webhookId.length > 200)
        return sendError(reply, 400, "invalid_header", "webhook-id is longer than 200 characters");

      let json: unknown;
      try {
        const body = text.startsWith(BOM) ? text.slice(BOM.length) : text;
        json = sjson.parse(body, undefined, { protoAction: "error", constructorAction: "error" });
      } catch (error) {
        const message = (error as Error).message;
        if (/prototype|constructor/i.test(message)) {
          return sendError(
            reply,
            400,
            "forbidden_key",
            "body contains a forbidden key (__proto__ or constructor.prototype)",
          );
        }
        return sendError(reply, 400, "invalid_json", `body is not valid JSON: ${message}`);
      }
      if (json === null || typeof json !== "object" || Array.isArray(json)) {
        return sendError(
          reply,
          400,
          "invalid_body",
          `body must be a JSON object, got ${Array.isArray(json) ? "an array" : json === null ? "null" : typeof json}`,
        );
      }
      const depth = depthOf(json, opts.maxDepth);
      if (depth > opts.maxDepth) {
        return sendError(reply, 400, "too_deep", `body nests deeper than ${opts.maxDepth} levels`);
      }
      let candidate: unknown = json;
      if (route.lift) {
        const lifted = route.lift(
          json as Record<string, unknown>,
          (req.query ?? {}) as Record<string, unknown>,
        );
        if (!lifted.ok) {
          return sendError(reply, 400, "invalid_body", lifted.message, [
            { path: lifted.path, message: lifted.message },
          ]);
        }
        candidate = lifted.body;
      }
      const parsed = route.schema.safeParse(candidate);
      if (!parsed.success) {
        return sendError(
          reply,
          400,
          "invalid_body",
          "body does not match the schema",
          zodIssues(parsed.error),
        );
      }
      const ahead = futureIssue(
        parsed.data.occurredAt,
        Date.now(),
        opts.maxFutureSkewMs ?? MAX_FUTURE_SKEW_MS,
      );
      if (ahead) {
        return sendError(reply, 400, "invalid_body", `occurredAt ${ahead.message}`, [ahead]);
      }
      // Select option ids become labels when ingest can read Lightfield's definitions
      // (LIGHTFIELD_API_KEY set); a slow or failing Lightfield never fails a webhook.
      if (route.name === "lightfield" && deps.labels) await ensureLabels(parsed.data);
      let normalized: Normalized;
      try {
        normalized = route.normalize(
          parsed.data as never,
          eventIdFor(route.name, webhookId),
          json,
          deps.labels?.labels,
        );
      } catch (error) {
        if (error instanceof NormalizeError) {
          return sendError(reply, 400, "invalid_body", error.message, [
            { path: error.path, message: error.message },
          ]);
        }
        throw error;
      }
      // Each lead journey is one trace: continue the sender's, or start one here. With
      // Sentry on, the webhook's own span (under the request's) is what the event carries,
      // so the scoring span is its child.
      const incoming = req.headers.traceparent;
      const span = startEventSpan({
        name: "webhook.received",
        op: "webhook",
        traceparent: isTraceparent(incoming) ? incoming : activeSpanTraceparent(),
        attributes: () => ({
          "pw.service": "ingest",
          route: route.name,
          "lead.id": normalized.event.subject,
          "event.type": normalized.event.type,
          "messaging.message.id": normalized.event.id,
        }),
      });
      normalized.event.traceparent =
        span.traceparent ??
        (isTraceparent(incoming) ? childTraceparent(incoming) : newTraceparent());
      // Defence in depth: never publish what the topic's own schema would reject.
      const check = TopicSchemas[normalized.topic as TopicName].safeParse(normalized.event);
      if (!check.success) {
        span.end();
        return sendError(
          reply,
          400,
          "invalid_body",
          "body maps to an invalid event",
          zodIssues(check.error),
        );
      }

      const key = deliveryKey(route.name, webhookId);
      let pending = inflight.get(key);
      const first = !pending;
      if (!pending) {
        pending = accept(route, webhookId, normalized).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      const outcome = await pending.finally(() => span.end());
      span.set({ "http.status": outcome.status });
      if (outcome.status === 503) {
        metrics.unavailable.inc({ dependency: outcome.dependency });
        reply.header("retry-after", String(opts.retryAfterSeconds));
        return sendError(
          reply,
          503,
          `${outcome.dependency}_unavailable`,
          `the ${outcome.dependency} cannot take the event now; retry later`,
        );
      }
      if (!first && outcome.status === 202) {
        metrics.dedupeHits.inc({ route: route.name });
        return reply.code(200).send({ duplicate: true, eventId: normalized.event.id });
      }
      return reply.code(outcome.status).send(outcome.body);
    });
  }

  const document = openApiDocument();
  app.get("/openapi.json", async () => document);
  app.get("/docs", async (_req, reply) =>
    reply.type("text/html; charset=utf-8").send(docsPage(document)),
  );
}

/** Nesting depth, stopping early once past `limit`. */
function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (v && typeof v === "object") {
      for (const child of Object.values(v))
        if (child && typeof child === "object") stack.push([child, d + 1]);
    }
  }
  return max;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
