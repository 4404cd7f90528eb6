/** The OpenAPI 3.1 document and a readable docs page, generated from the wire schemas. */
import { z } from "zod";
import { LightfieldWebhook, OutcomeWebhook, SignalWebhook } from "./wire.ts";

const ErrorBody = z.object({
  error: z.object({
    status: z.number().int(),
    code: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

const signed = [
  {
    name: "webhook-id",
    in: "header",
    required: true,
    schema: { type: "string", maxLength: 200 },
    description:
      "Unique per message on its route; a repeat on the same route is acknowledged once (200 duplicate). The same id on another route is another message.",
  },
  {
    name: "webhook-timestamp",
    in: "header",
    required: true,
    schema: { type: "string" },
    description: "Unix seconds; must be within 5 minutes.",
  },
  {
    name: "webhook-signature",
    in: "header",
    required: true,
    schema: { type: "string" },
    description:
      "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}> (Standard Webhooks); several space-separated allowed.",
  },
];

function route(summary: string, schema: z.ZodType, query: object[] = []) {
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  const err = (description: string) => ({
    description,
    content: { "application/json": { schema: json(ErrorBody) } },
  });
  return {
    post: {
      summary,
      parameters: [...signed, ...query],
      requestBody: { required: true, content: { "application/json": { schema: json(schema) } } },
      responses: {
        "202": { description: "Accepted: the event is on the broker (acks=all)." },
        "200": {
          description: "Duplicate webhook-id on this route: acknowledged, not published again.",
        },
        "400": err(
          "Invalid body: `issues` name each field and why (an `occurredAt` more than 5 minutes ahead of the server clock included).",
        ),
        "401": err("Missing, bad or stale signature."),
        "413": err("Body too large."),
        "415": err("Content-Type is not application/json."),
        "429": err("Rate limited; see Retry-After."),
        "503": err("Broker or database unavailable; retry after Retry-After seconds."),
      },
    },
  };
}

const tokenParam = {
  name: "token",
  in: "path",
  required: true,
  schema: { type: "string", maxLength: 2048 },
  description:
    "The signed token from the e-mail's List-Unsubscribe link (`<payload>.<signature>`, HMAC-SHA256 under UNSUBSCRIBE_SECRETS).",
};

const unsubscribeErrors = (json: (s: z.ZodType) => unknown) => {
  const err = (description: string) => ({
    description,
    content: { "application/json": { schema: json(ErrorBody) }, "text/html": {} },
  });
  return {
    "400": err("`invalid_token`: forged, truncated, or signed with a secret ingest does not hold."),
    "503": err(
      "`not_configured` (UNSUBSCRIBE_SECRETS unset), or the broker or database cannot take it; retry after Retry-After seconds.",
    ),
  };
};

function unsubscribeRoute() {
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  return {
    post: {
      summary:
        "RFC 8058 one-click unsubscribe: the token in the path is the authority (no login, no confirmation). Publishes an `unsubscribed` outcome on `outreach.outcomes.v1` (event id derived from the token, so a repeat is the same event).",
      parameters: [tokenParam],
      requestBody: {
        required: false,
        description:
          "Ignored: `List-Unsubscribe=One-Click` as mail providers send it, a form, multipart, or nothing.",
        content: {
          "application/x-www-form-urlencoded": {
            schema: {
              type: "object",
              properties: { "List-Unsubscribe": { type: "string", const: "One-Click" } },
            },
          },
        },
      },
      responses: {
        "200": {
          description:
            "Unsubscribed: the outcome is on the broker (acks=all). `{unsubscribed: true}`, with `duplicate: true` for a link already used; a page when the client accepts text/html.",
        },
        ...unsubscribeErrors(json),
      },
    },
    get: {
      summary:
        "A plain page (no scripts) asking to confirm, whose button POSTs to the same URL. A GET never unsubscribes: link scanners prefetch them.",
      parameters: [tokenParam],
      responses: {
        "200": { description: "The confirmation page (text/html)." },
        ...unsubscribeErrors(json),
      },
    },
  };
}

export function openApiDocument() {
  return {
    openapi: "3.1.0",
    info: {
      title: "Pipeline Whisperer ingest",
      version: "1",
      description:
        "Signed webhooks (Standard Webhooks) from Lightfield, product/site signals and outreach events; one-click unsubscribe links (RFC 8058).",
    },
    paths: {
      "/webhooks/lightfield": route(
        "Lightfield object-lifecycle event (contact/account/opportunity/meeting/task/note created|updated|deleted). Also accepted as a workflow or relay posts it: the type from `type`, `trigger`, `objectType` + `change` or `?type=`; the object under `object`/`record` or the body itself, with `occurredAt`; `_diff`/`diff` as `{before, after}` (or `from`/`to`, per field or whole); one wrapper `data`/`payload`/`output` removed; a relationship as `{cardinality, objectType, values}`, an array of ids or one id. A body naming no type and no `?type=` is 400.",
        LightfieldWebhook,
        [
          {
            name: "type",
            in: "query",
            required: false,
            schema: { type: "string", maxLength: 100 },
            description:
              "The event type (e.g. `contact.updated`) when the body does not say it; the body wins when it does.",
          },
        ],
      ),
      "/webhooks/signals": route(
        "Intent signal (page_viewed, pricing_viewed, demo_requested, trial_started, form_submitted)",
        SignalWebhook,
      ),
      "/webhooks/outcomes": route(
        "Outreach outcome (delivered, opened, clicked, replied, meeting_booked, converted, bounced, unsubscribed)",
        OutcomeWebhook,
      ),
      "/unsubscribe/{token}": unsubscribeRoute(),
      "/healthz": { get: { summary: "Alive", responses: { "200": { description: "ok" } } } },
      "/readyz": {
        get: {
          summary: "Broker and database reachable",
          responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          responses: { "200": { description: "text format" } },
        },
      },
    },
  };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export function docsPage(doc: ReturnType<typeof openApiDocument>): string {
  const sections = Object.entries(doc.paths)
    .map(([path, ops]) =>
      Object.entries(ops)
        .map(([method, op]) => {
          const o = op as {
            summary: string;
            requestBody?: { content: Record<string, { schema: unknown }> };
            responses: Record<string, { description: string }>;
          };
          const [type, body] = Object.entries(o.requestBody?.content ?? {})[0] ?? [];
          const schema = body
            ? `<details><summary>Request body schema (${escapeHtml(type!)})</summary><pre>${escapeHtml(JSON.stringify(body.schema, null, 2))}</pre></details>`
            : "";
          const responses = Object.entries(o.responses)
            .map(([code, r]) => `<li><code>${code}</code> ${escapeHtml(r.description)}</li>`)
            .join("");
          return `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2><p>${escapeHtml(o.summary)}</p><ul>${responses}</ul>${schema}</section>`;
        })
        .join(""),
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}section{border-top:1px solid #d0d7de;padding:.5rem 0}pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:12px}code{background:#f6f8fa;padding:0 .25rem}</style>
</head><body><h1>${escapeHtml(doc.info.title)}</h1><p>${escapeHtml(doc.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a></p>${sections}</body></html>`;
}
