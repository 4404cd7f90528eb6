/**
 * The gateway's OpenAPI 3.1 document, written by hand (served at `GET /openapi.json`).
 * The read routes are listed as placeholders until the read side lands (their shapes are
 * its to describe). A test checks that every registered /api route appears here.
 */
import { COMMAND_KINDS } from "./commands/kinds.ts";
import { TEMPLATE_SLOTS } from "./commands/templates.ts";
import { commandCenterPaths } from "./openapi-command-center.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: json(ref("Error")) });

const guarded = {
  "401": error("No session, or it expired (`unauthenticated`)"),
  "403": error(
    "Role too low (`forbidden`); for non-GET: bad CSRF token (`csrf`) or foreign Origin (`origin`)",
  ),
};
const security = [{ session: [] }];
const csrfHeader = {
  name: "x-csrf-token",
  in: "header",
  required: true,
  description: "The session's csrfToken (from login or GET /api/me)",
  schema: { type: "string" },
};

const str = (extra: object = {}) => ({ type: "string", ...extra });
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  additionalProperties: false,
  properties,
  required,
});
const reason = str({ maxLength: 1000 });

const commandBodies: Record<keyof typeof COMMAND_KINDS, object> = {
  variant: obj(
    {
      action: str({ enum: ["pause", "resume", "revive"] }),
      variantId: str({ maxLength: 100 }),
      segment: str({ maxLength: 100, description: "Absent: every segment" }),
      reason,
    },
    ["action", "variantId"],
  ),
  lead: obj(
    {
      leadId: str({ maxLength: 200, pattern: "^[A-Za-z0-9_.:@-]+$" }),
      action: str({ enum: ["suppress", "unsuppress", "prioritise", "do_not_contact"] }),
      reason,
    },
    ["leadId", "action"],
  ),
  "kill-switch": obj({ engaged: { type: "boolean" }, reason }, ["engaged"]),
  "approval-mode": obj({ enabled: { type: "boolean" } }, ["enabled"]),
  approval: obj(
    {
      requestId: str({ maxLength: 200 }),
      decision: str({ enum: ["approve", "reject"] }),
      note: str({ maxLength: 1000, description: "Carried as the command's reason" }),
    },
    ["requestId", "decision"],
  ),
  "playbook-upsert": obj(
    {
      variantId: str({ maxLength: 100, pattern: "^[a-z0-9_-]+$" }),
      channel: str({ enum: ["email", "linkedin", "slack", "in_app"] }),
      angle: str({ maxLength: 100 }),
      subjectTemplate: str({
        maxLength: 500,
        description: `{{slot}}s: ${TEMPLATE_SLOTS.join(", ")}`,
      }),
      bodyTemplate: str({
        maxLength: 20000,
        description: `{{slot}}s: ${TEMPLATE_SLOTS.join(", ")}`,
      }),
      cadenceStep: { type: "integer", minimum: 0, maximum: 20, default: 0 },
      delayDays: { type: "integer", minimum: 0, maximum: 90, default: 0 },
      parentVariantId: str({ maxLength: 100 }),
      reason,
    },
    ["variantId", "channel", "angle", "subjectTemplate", "bodyTemplate"],
  ),
  "playbook-retire": obj({ variantId: str({ maxLength: 100 }), reason }, ["variantId"]),
  "model-rollback": obj(
    {
      version: {
        type: "integer",
        minimum: 1,
        description: "The built-in model version whose weights scoring goes back to",
      },
      reason,
    },
    ["version"],
  ),
};

const commandPaths = Object.fromEntries(
  Object.entries(COMMAND_KINDS).map(([name, kind]) => [
    `/api/commands/${name}`,
    {
      post: {
        tags: ["commands"],
        summary: `Issue ${kind.type} (role: ${kind.role})`,
        description:
          "Signed by the gateway (ADR 0009), written to the audit log (result `published`) and enqueued on operator.commands.v1 in one transaction. `data.operator` is the signed-in user. Each service the command is meant for confirms it on operator.command_results.v1; GET /api/audit shows the confirmations.",
        security,
        parameters: [csrfHeader],
        requestBody: {
          required: true,
          content: json(commandBodies[name as keyof typeof COMMAND_KINDS]),
        },
        responses: {
          "202": { description: "Published", content: json(ref("CommandAccepted")) },
          "400": error("A bad body (`invalid_body`, naming each field)"),
          ...guarded,
          "503": error("Command signing not configured"),
        },
      },
    },
  ]),
);

/** Placeholders: the read side documents these when it lands. */
const readRoute = (summary: string, parameters: object[] = []) => ({
  get: {
    tags: ["read"],
    summary,
    description: "Read model (placeholder: described by the read side). Role: viewer.",
    security,
    parameters,
    responses: { "200": { description: "OK" }, ...guarded },
  },
});
const pathParam = (name: string) => ({ name, in: "path", required: true, schema: str() });

export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Pipeline Whisperer gateway",
      version: "0.1.0",
      description:
        "The operators' API: sign-in, signed operator commands with their audit log, and the read model behind the dashboard. Every route but login needs the `pw_session` cookie; every non-GET route also the `x-csrf-token` header.",
    },
    components: {
      securitySchemes: {
        session: { type: "apiKey", in: "cookie", name: "pw_session" },
      },
      schemas: {
        Error: obj(
          {
            error: str(),
            message: str(),
            issues: { type: "array", items: obj({ field: str(), message: str() }) },
          },
          ["error", "message"],
        ),
        Me: obj(
          {
            username: str(),
            role: str({ enum: ["viewer", "operator", "admin"] }),
            csrfToken: str(),
            expiresAt: str({ format: "date-time" }),
          },
          ["username", "role", "csrfToken", "expiresAt"],
        ),
        CommandAccepted: obj({ commandId: str(), auditId: { type: "integer" } }, [
          "commandId",
          "auditId",
        ]),
        AuditEntry: obj({
          id: { type: "integer" },
          commandId: str(),
          commandType: str(),
          operator: str(),
          role: str({ enum: ["viewer", "operator", "admin"] }),
          subject: str(),
          data: { type: "object" },
          result: str({
            enum: ["published", "applied", "refused", "failed"],
            description:
              "published until every service in `services` applied it (`applied`) or one refused it (`refused`)",
          }),
          detail: {
            type: ["string", "null"],
            description: "The confirmations' sentences (`service: sentence; …` when several)",
          },
          at: str({ format: "date-time" }),
          resultAt: { type: ["string", "null"], format: "date-time" },
          services: {
            type: "array",
            items: str(),
            description: "The services the command is meant for",
          },
          confirmations: { type: "array", items: ref("Confirmation") },
          awaiting: {
            type: "array",
            items: str(),
            description: "Services that have not confirmed yet",
          },
        }),
        Confirmation: obj(
          {
            service: str(),
            result: str({ enum: ["applied", "refused"] }),
            detail: str(),
            reason: {
              type: ["string", "null"],
              description:
                "A refusal's code: unsigned, bad_signature, unknown_key, expired, no_change, not_pending, unknown_version…",
            },
            at: str({ format: "date-time" }),
          },
          ["service", "result", "detail", "reason", "at"],
        ),
        Switch: {
          type: "object",
          description:
            "As set by the latest command a service confirmed applying (`engaged` for the kill switch, `enabled` for approval mode)",
          properties: {
            engaged: { type: "boolean" },
            enabled: { type: "boolean" },
            by: { type: ["string", "null"] },
            at: { type: ["string", "null"], format: "date-time" },
            reason: { type: ["string", "null"] },
            commandId: { type: ["string", "null"] },
            confirmedBy: { type: "array", items: str() },
            awaiting: { type: "array", items: str() },
            refusedBy: { type: "array", items: str() },
            pending: {
              type: ["object", "null"],
              description: "A newer command no service has confirmed yet",
            },
          },
        },
        Approval: obj({
          requestId: str(),
          lead: obj({
            id: str(),
            name: { type: ["string", "null"] },
            company: { type: ["string", "null"] },
            role: { type: ["string", "null"] },
            score: { type: ["number", "null"] },
            tier: { type: ["string", "null"] },
          }),
          segment: str(),
          variantId: str(),
          channel: str(),
          to: str(),
          message: obj({
            subject: str(),
            body: str(),
            followUps: {
              type: "array",
              items: obj({
                step: { type: "integer" },
                delayDays: { type: "integer" },
                subject: str(),
                body: str(),
              }),
            },
          }),
          explanation: { type: "object", description: "The engine's explanation of the choice" },
          priority: { type: "number" },
          copy: { type: ["object", "null"] },
          heldAt: str({ format: "date-time" }),
        }),
        ModelVersion: obj({
          version: { type: "integer" },
          name: str({ description: "As lead.scored.v1 names it: builtin-v<version>" }),
          active: {
            type: "boolean",
            description: "The version leads are scored with: the newest one not rejected",
          },
          rejected: {
            type: "boolean",
            description:
              "A refit that did not beat the active version on its holdout (model.candidate_rejected.v1): never active, never superseding one; it can still be rolled back to",
          },
          cause: str({ enum: ["initial", "online_update", "refit", "rollback", "rejected"] }),
          reason: str({ description: "Scoring's words; for a rejected candidate, its verdict" }),
          previousVersion: {
            type: ["integer", "null"],
            description: "The version active before it (rejected: the one that stayed active)",
          },
          restoredFrom: { type: ["integer", "null"] },
          activatedAt: str({
            format: "date-time",
            description: "When it became active (rejected: when it was judged)",
          }),
          supersededAt: {
            type: ["string", "null"],
            format: "date-time",
            description:
              "When the next version that was not rejected replaced it; null while active, and always for a rejected candidate",
          },
          weights: { type: "object", additionalProperties: { type: "number" } },
          evaluation: {
            type: ["object", "null"],
            description:
              "An online update (earlier releases): the outcome's label and what the previous version predicted",
          },
          holdout: {
            type: ["object", "null"],
            description:
              "A refit, promoted or not: its figures (`candidate`) and the then-active version's (`previous`) on the same holdout of recent labelled sends, each { n, positives, baseRate, meanPredicted, auc (null with one class), logLoss, ece }; `trainedOn` labelled sends; scoring's `verdict`",
          },
          tiers: {
            type: ["object", "null"],
            description:
              "The tiers' probability cut-offs it scores with: { hot, warm, basis } (null before refits, and for a rejected candidate)",
          },
          metrics: {
            type: ["object", "null"],
            description:
              "A refit: the candidate's figures on its holdout (`window` = its n). An online update of earlier releases (and a version after them, up to the first refit): over the last `window` (≤ 50) labelled outcomes up to this version, each predicted before it was learned from. Null without either.",
            properties: {
              window: { type: "integer" },
              brier: { type: "number", description: "Online updates only" },
              meanPredicted: { type: "number" },
              observedRate: { type: "number" },
              positives: { type: "integer", description: "Refits only" },
              auc: { type: ["number", "null"], description: "Refits only; null with one class" },
              logLoss: { type: "number", description: "Refits only" },
              ece: { type: "number", description: "Refits only: expected calibration error" },
            },
          },
        }),
      },
    },
    paths: {
      "/api/login": {
        post: {
          tags: ["auth"],
          summary: "Sign in: sets the pw_session cookie (HttpOnly, SameSite=Strict)",
          requestBody: {
            required: true,
            content: json(obj({ username: str(), password: str() }, ["username", "password"])),
          },
          responses: {
            "200": { description: "Signed in", content: json(ref("Me")) },
            "400": error("A bad body"),
            "401": error("Wrong username or password (`invalid_credentials`)"),
            "403": error("Foreign Origin (`origin`)"),
            "429": {
              description: "Too many attempts for this username from this address",
              headers: { "Retry-After": { schema: { type: "integer" } } },
              content: json(ref("Error")),
            },
          },
        },
      },
      "/api/logout": {
        post: {
          tags: ["auth"],
          summary: "End the session",
          security,
          parameters: [csrfHeader],
          responses: { "204": { description: "Signed out; the cookie is cleared" }, ...guarded },
        },
      },
      "/api/me": {
        get: {
          tags: ["auth"],
          summary: "The signed-in operator and the session's CSRF token",
          security,
          responses: { "200": { description: "OK", content: json(ref("Me")) }, ...guarded },
        },
      },
      ...commandPaths,
      "/api/audit": {
        get: {
          tags: ["commands"],
          summary: "The audit log, newest first (role: viewer)",
          security,
          parameters: [
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
            },
            {
              name: "cursor",
              in: "query",
              description: "nextCursor of the previous page",
              schema: str(),
            },
          ],
          responses: {
            "200": {
              description: "A page",
              content: json(
                obj({
                  items: { type: "array", items: ref("AuditEntry") },
                  nextCursor: { type: ["string", "null"] },
                }),
              ),
            },
            "400": error("A bad query"),
            ...guarded,
          },
        },
      },
      "/api/controls": {
        get: {
          tags: ["commands"],
          summary: "The kill switch, approval mode and the approval queue's length (role: viewer)",
          description:
            "Derived from the commands issued here and the services' confirmations of them.",
          security,
          responses: {
            "200": {
              description: "OK",
              content: json(
                obj({
                  killSwitch: ref("Switch"),
                  approvalMode: ref("Switch"),
                  pendingApprovals: { type: "integer" },
                }),
              ),
            },
            ...guarded,
          },
        },
      },
      "/api/approvals": {
        get: {
          tags: ["read"],
          summary: "Decisions held for approval, oldest first (role: viewer)",
          description:
            "From experiment.decision_held.v1 / experiment.decision_resolved.v1: an approved, rejected or withdrawn decision leaves the list. Approve or reject with POST /api/commands/approval.",
          security,
          parameters: [
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 500, default: 100 },
            },
          ],
          responses: {
            "200": {
              description: "The queue",
              content: json(
                obj({
                  items: { type: "array", items: ref("Approval") },
                  total: { type: "integer" },
                }),
              ),
            },
            "400": error("A bad query"),
            ...guarded,
          },
        },
      },
      "/api/models": {
        get: {
          tags: ["read"],
          summary: "The scoring model's versions, newest first (role: viewer)",
          description:
            "From model.version_activated.v1 and model.candidate_rejected.v1. Roll back (to any version, a rejected one too) with POST /api/commands/model-rollback.",
          security,
          parameters: [
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
            },
            {
              name: "cursor",
              in: "query",
              description: "nextCursor of the previous page",
              schema: str(),
            },
          ],
          responses: {
            "200": {
              description: "A page",
              content: json(
                obj({
                  active: { type: ["integer", "null"] },
                  items: { type: "array", items: ref("ModelVersion") },
                  nextCursor: { type: ["string", "null"] },
                }),
              ),
            },
            "400": error("A bad query"),
            ...guarded,
          },
        },
      },
      "/api/playbook/preview": {
        post: {
          tags: ["commands"],
          summary: "Render templates for a sample lead (role: operator)",
          security,
          parameters: [csrfHeader],
          requestBody: {
            required: true,
            content: json(
              obj(
                {
                  subjectTemplate: str({ maxLength: 500 }),
                  bodyTemplate: str({ maxLength: 20000 }),
                  sample: obj(
                    Object.fromEntries(TEMPLATE_SLOTS.map((s) => [s, str({ maxLength: 500 })])),
                  ),
                },
                ["subjectTemplate", "bodyTemplate"],
              ),
            ),
          },
          responses: {
            "200": {
              description: "Rendered",
              content: json(
                obj({
                  subject: str(),
                  body: str(),
                  slots: { type: "array", items: str() },
                  sample: { type: "object" },
                }),
              ),
            },
            "400": error("An unknown or malformed {{slot}} (naming the field and slot)"),
            ...guarded,
          },
        },
      },
      "/api/leads": readRoute("Leads by priority"),
      "/api/leads/{leadId}": readRoute("One lead", [pathParam("leadId")]),
      "/api/leads/{leadId}/journey": readRoute("A lead's journey", [pathParam("leadId")]),
      "/api/experiments": readRoute("Variants per segment"),
      "/api/experiments/{segment}/history": readRoute("A segment's traffic share over time", [
        pathParam("segment"),
      ]),
      "/api/outreach": readRoute("The outreach log"),
      "/api/funnel": readRoute("The funnel over time"),
      "/api/feed": readRoute("What the system learned lately"),
      "/api/stream": readRoute("Live events (SSE; resume with Last-Event-ID)"),
      ...commandCenterPaths(),
    },
  };
}

/** `/api/leads/{leadId}` ↔ Fastify's `/api/leads/:leadId`. */
export const openApiPath = (fastifyUrl: string) => fastifyUrl.replace(/:(\w+)/g, "{$1}");
