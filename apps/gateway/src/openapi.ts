/**
 * The gateway's OpenAPI 3.1 document, written by hand (served at `GET /openapi.json`).
 * The read routes are listed as placeholders until the read side lands (their shapes are
 * its to describe). A test checks that every registered /api route appears here.
 */
import { COMMAND_KINDS } from "./commands/kinds.ts";
import { TEMPLATE_SLOTS } from "./commands/templates.ts";

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
};

const commandPaths = Object.fromEntries(
  Object.entries(COMMAND_KINDS).map(([name, kind]) => [
    `/api/commands/${name}`,
    {
      post: {
        tags: ["commands"],
        summary: `Issue ${kind.type} (role: ${kind.role})`,
        description:
          "Signed by the gateway (ADR 0009), written to the audit log (result `published`) and enqueued on operator.commands.v1 in one transaction. `data.operator` is the signed-in user.",
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
          result: str({ enum: ["published", "applied", "refused", "failed"] }),
          detail: { type: ["string", "null"] },
          at: str({ format: "date-time" }),
          resultAt: { type: ["string", "null"], format: "date-time" },
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
    },
  };
}

/** `/api/leads/{leadId}` ↔ Fastify's `/api/leads/:leadId`. */
export const openApiPath = (fastifyUrl: string) => fastifyUrl.replace(/:(\w+)/g, "{$1}");
