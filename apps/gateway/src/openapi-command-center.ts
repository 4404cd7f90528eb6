/**
 * The OpenAPI paths of the command center's pipeline routes (health, DLQ view and
 * redrive: src/pipeline/) and the experiments' what-if (src/whatif/), spread into the
 * gateway's document (src/openapi.ts).
 */
import { ALL_TOPICS } from "@pw/events";
import { DLQ_VIEW_MAX } from "./pipeline/dlq.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(ref("Error")) });
const str = (extra: object = {}) => ({ type: "string", ...extra });
const num = (extra: object = {}) => ({ type: "number", ...extra });
const int = (extra: object = {}) => ({ type: "integer", ...extra });
const nullable = (schema: object) => ({ anyOf: [schema, { type: "null" }] });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  additionalProperties: false,
  properties,
  required,
});
const interval = { type: "array", items: num(), minItems: 2, maxItems: 2 };
const security = [{ session: [] }];
const guarded = {
  "401": error("No session, or it expired (`unauthenticated`)"),
  "403": error(
    "Role too low (`forbidden`); for non-GET: bad CSRF token (`csrf`) or foreign Origin (`origin`)",
  ),
};
const csrfHeader = {
  name: "x-csrf-token",
  in: "header",
  required: true,
  description: "The session's csrfToken (from login or GET /api/me)",
  schema: str(),
};
const topic = str({ enum: ALL_TOPICS });

const check = obj(
  {
    name: str(),
    status: str({ enum: ["ok", "down", "not_configured"] }),
    required: { type: "boolean" },
    reason: str(),
  },
  ["name", "status", "required"],
);

const instance = obj(
  {
    service: str(),
    instance: str({ description: "host:pid (`/2`… for a second one in the same process)" }),
    version: str({ description: "SERVICE_VERSION" }),
    startedAt: str({ format: "date-time" }),
    at: str({ format: "date-time", description: "When its last heartbeat was made" }),
    intervalMs: int({ description: "Its HEALTH_EVERY_MS" }),
    ready: { type: "boolean", description: "Reported ready and not stale" },
    reportedReady: { type: "boolean", description: "What its last heartbeat said" },
    stale: { type: "boolean", description: "Not heard for 3× its interval" },
    lastHeardAt: str({ format: "date-time", description: "On the gateway's clock" }),
    silentMs: int(),
    checks: { type: "array", items: check },
    outbox: obj(
      {
        pending: int(),
        oldestPendingAgeMs: num(),
        quarantined: int(),
      },
      ["pending", "oldestPendingAgeMs", "quarantined"],
    ),
    dlq: obj(
      {
        sent: int({ description: "Parked in a DLQ by this instance since it started" }),
        byTopic: { type: "object", additionalProperties: int() },
        last: obj({ topic: str(), reason: str(), at: str({ format: "date-time" }) }),
      },
      ["sent", "byTopic"],
    ),
    consumers: {
      type: "array",
      items: obj(
        {
          topic: str(),
          group: str(),
          status: str({ enum: ["ok", "stalled"] }),
          lag: int({ description: "Where the bus knows it cheaply" }),
        },
        ["topic", "group", "status"],
      ),
    },
  },
  ["service", "instance", "ready", "reportedReady", "stale", "lastHeardAt", "checks", "dlq"],
);

const estimate = obj({ estimate: num(), interval }, ["estimate", "interval"]);
const candidate = {
  oneOf: [
    str({ description: "As `pnpm ope --candidate` spells it: `threshold:0.1`, `fixed:roi`…" }),
    obj(
      {
        kind: str({ enum: ["thompson", "threshold", "uniform", "fixed"] }),
        threshold: num({ exclusiveMinimum: 0, exclusiveMaximum: 1 }),
        floor: num({ minimum: 0, maximum: 1 }),
        sharpen: num({ exclusiveMinimum: 0 }),
        variant: str(),
      },
      ["kind"],
    ),
  ],
};

export function commandCenterPaths() {
  return {
    "/api/health": {
      get: {
        tags: ["health"],
        summary: "Every service's latest heartbeat, and this gateway's own checks (role: viewer)",
        description:
          "From `service.health.v1` (each service every HEALTH_EVERY_MS), kept in memory. A service is ready when at least one of its instances was heard recently and every such instance is ready; an instance silent for 3× its interval is stale and not ready. Readiness flips are rows of type `service.readiness_changed.v1` on /api/stream.",
        security,
        responses: {
          "200": {
            description: "OK",
            content: json(
              obj({
                at: str({ format: "date-time" }),
                ready: { type: "boolean", description: "The gateway and every service ready" },
                intervalMs: int(),
                staleAfterIntervals: int(),
                gateway: obj({
                  status: str({ enum: ["ready", "not_ready"] }),
                  checks: { type: "object", additionalProperties: check },
                }),
                services: {
                  type: "array",
                  items: obj({
                    service: str(),
                    ready: { type: "boolean" },
                    instances: { type: "array", items: instance },
                  }),
                },
              }),
            ),
          },
          ...guarded,
        },
      },
    },
    "/api/dlq": {
      get: {
        tags: ["health"],
        summary: "Recent parked messages and how many wait per DLQ (role: viewer)",
        description: `The gateway reads every DLQ with a group of its own and keeps the latest ${DLQ_VIEW_MAX} parked messages in memory (never their content). \`waiting\` is the DLQ tool's own count (what \`pnpm dlq depth\` prints), null when it cannot be read.`,
        security,
        parameters: [
          { name: "topic", in: "query", schema: topic },
          {
            name: "limit",
            in: "query",
            schema: int({ minimum: 1, maximum: DLQ_VIEW_MAX, default: 100 }),
          },
        ],
        responses: {
          "200": {
            description: "OK",
            content: json(
              obj({
                topics: {
                  type: "array",
                  items: obj({ topic: str(), dlqTopic: str(), waiting: nullable(int()) }),
                },
                messages: {
                  type: "array",
                  items: obj({
                    topic: str(),
                    partition: int(),
                    offset: str(),
                    key: str(),
                    eventId: nullable(str()),
                    eventType: nullable(str()),
                    reason: str(),
                    failureKind: nullable(str()),
                    errorClass: nullable(str()),
                    attempts: int(),
                    consumerGroup: nullable(str()),
                    parkedAt: str({ format: "date-time" }),
                    dlqPartition: int(),
                    dlqOffset: str(),
                    redriven: nullable(obj({ at: str(), by: str(), auditId: int() })),
                  }),
                },
                retained: int(),
                max: int(),
                redrive: obj({ available: { type: "boolean" } }),
              }),
            ),
          },
          "400": error("A bad query (naming the parameter)"),
          ...guarded,
        },
      },
    },
    "/api/commands/dlq-redrive": {
      post: {
        tags: ["health"],
        summary: "Send parked messages back to their topic (role: operator)",
        description:
          "The DLQ tool's redrive (`pnpm dlq redrive`): the original key, value and headers are published again and the DLQ's position moves past them, so a message is never redriven twice. The group that parked it handles it (its inbox never recorded it); groups that had handled it skip it. Written to the audit log (`gateway.dlq_redrive`).",
        security,
        parameters: [csrfHeader],
        requestBody: {
          required: true,
          content: json(
            obj(
              {
                topic: str({ description: "The original topic (or its .dlq)" }),
                eventId: str(),
                originalOffset: { oneOf: [str({ pattern: "^\\d+$" }), int({ minimum: 0 })] },
                originalPartition: int({ minimum: 0 }),
                all: { const: true },
                note: str({ maxLength: 1000 }),
              },
              ["topic"],
            ),
          ),
        },
        responses: {
          "200": {
            description: "Redriven",
            content: json(
              obj({
                commandId: str(),
                auditId: int(),
                topic: str(),
                redriven: int(),
                reparked: int(),
                handled: { type: "array", items: { type: "object" } },
              }),
            ),
          },
          "400": error("A bad body (`invalid_body`, naming each field): exactly one selector"),
          "404": error("Nothing waiting matches (`not_found`)"),
          ...guarded,
          "502": error("The redrive did not complete (`redrive_failed`)"),
          "503": error("No DLQ tool for this gateway's bus"),
        },
      },
    },
    "/api/experiments/{segment}/whatif": {
      post: {
        tags: ["read"],
        summary:
          "What a candidate setting would have earned on the segment's decisions (role: viewer)",
        description:
          "Off-policy evaluation (IPS and SNIPS, @pw/ope) on the decisions the gateway rebuilt from its stream: each experiment request with its propensity and arms' P(best), its reward outcome inside the attribution window, requests skipped or failed by dispatch withdrawn. A decision counts once its window closed. Fewer than 30 such decisions: `enough: false` and a sentence saying so (not an error).",
        security,
        parameters: [
          csrfHeader,
          { name: "segment", in: "path", required: true, schema: str({ maxLength: 100 }) },
        ],
        requestBody: {
          required: true,
          content: json(
            obj(
              {
                candidate,
                reward: str({
                  enum: ["replied", "meeting_booked", "converted"],
                  description:
                    "Default: the segment's own reward (its latest snapshot), else meeting_booked",
                }),
                windowDays: num({ minimum: 0.01, maximum: 90, default: 14 }),
              },
              ["candidate"],
            ),
          ),
        },
        responses: {
          "200": {
            description: "The estimate, or why there is none",
            content: json(
              obj({
                segment: str(),
                candidate: str({ description: "As `pnpm ope` spells it" }),
                reward: str(),
                windowDays: num(),
                enough: { type: "boolean" },
                n: int({ description: "Settled decisions the estimate is made on" }),
                decisions: obj({
                  logged: int(),
                  settled: int(),
                  open: int({ description: "Window still open" }),
                  withdrawn: int({ description: "Skipped or failed by dispatch, never sent" }),
                  notEvaluable: int(),
                }),
                estimator: str({ enum: ["snips"] }),
                estimate: nullable(num()),
                interval: nullable(interval),
                estimators: obj({ ips: nullable(estimate), snips: nullable(estimate) }),
                effectiveSampleSize: nullable(num()),
                maxWeight: nullable(num()),
                baseline: obj({ rate: nullable(num()), interval: nullable(interval) }),
                sentence: str(),
                warnings: { type: "array", items: str() },
              }),
            ),
          },
          "400": error("A bad body or a candidate that cannot be evaluated (naming the field)"),
          ...guarded,
        },
      },
    },
  };
}
