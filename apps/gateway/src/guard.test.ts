// The 401/403 matrix over every route the gateway registers — the read routes too, once
// they are registered: no cookie, an expired session, a role too low, a missing or wrong
// CSRF header and a foreign Origin on non-GET routes; the right role gets through.
import type { HTTPMethods } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, testGateway } from "../test/auth-helpers.ts";
import type { Role } from "./config.ts";
import { type openApiDocument, openApiPath } from "./openapi.ts";

type Route = {
  method: HTTPMethods;
  /** Fastify's pattern. */
  pattern: string;
  url: string;
  role: Role;
  body?: unknown;
  /** What the right role gets (a lead that does not exist may be a 404, never a 401/403). */
  ok: number | number[];
  /** SSE never ends under inject: only its refusals are checked. */
  streaming?: boolean;
};

const post = (pattern: string, role: Role, body: unknown, ok = 202): Route => ({
  method: "POST",
  pattern,
  url: pattern,
  role,
  body,
  ok,
});
const read = (pattern: string, url = pattern, streaming = false): Route => ({
  method: "GET",
  pattern,
  url,
  role: "viewer",
  ok: pattern.includes(":") ? [200, 404] : 200,
  streaming,
});

const ROUTES: Route[] = [
  read("/api/me"),
  post("/api/logout", "viewer", undefined, 204),
  read("/api/audit"),
  post("/api/commands/variant", "operator", { action: "pause", variantId: "roi" }),
  post("/api/commands/lead", "operator", { leadId: "lead-1", action: "suppress" }),
  post("/api/commands/kill-switch", "operator", { engaged: true }),
  post("/api/commands/approval-mode", "operator", { enabled: true }),
  post("/api/commands/approval", "operator", { requestId: "req-1", decision: "approve" }),
  post("/api/commands/playbook-upsert", "admin", {
    variantId: "v_new",
    channel: "email",
    angle: "roi",
    subjectTemplate: "Hi {{firstName}}",
    bodyTemplate: "About {{company}}",
  }),
  post("/api/commands/playbook-retire", "admin", { variantId: "v_new" }),
  post("/api/commands/model-rollback", "operator", { version: 1 }),
  read("/api/controls"),
  read("/api/approvals"),
  read("/api/models"),
  post(
    "/api/playbook/preview",
    "operator",
    { subjectTemplate: "Hi {{firstName}}", bodyTemplate: "x" },
    200,
  ),
  // The read side's routes: checked as soon as they are registered.
  read("/api/leads"),
  read("/api/leads/:leadId", "/api/leads/lead-1"),
  read("/api/leads/:leadId/journey", "/api/leads/lead-1/journey"),
  read("/api/experiments"),
  read("/api/experiments/:segment/history", "/api/experiments/exec-mid/history"),
  read("/api/outreach"),
  read("/api/funnel"),
  read("/api/feed"),
  read("/api/stream", "/api/stream", true),
  read("/api/health"),
  read("/api/dlq"),
  // Nothing is parked: the operator gets through the guard to a 404.
  post("/api/commands/dlq-redrive", "operator", { topic: "lead.events.v1", all: true }, 404),
  {
    ...post("/api/experiments/:segment/whatif", "viewer", { candidate: "uniform" }, 200),
    url: "/api/experiments/exec-mid/whatif",
  },
];

const BELOW: Record<Role, Role | undefined> = {
  viewer: undefined,
  operator: "viewer",
  admin: "operator",
};

let gw: TestGateway;
beforeAll(async () => {
  gw = await testGateway();
}, 60_000);
afterAll(() => gw?.stop());

const registered = (r: Route) => gw.app.hasRoute({ method: r.method, url: r.pattern });
const send = (
  r: Route,
  s: Awaited<ReturnType<TestGateway["session"]>> | undefined,
  extra: { csrf?: string | false; headers?: Record<string, string> } = {},
) =>
  gw.as(s, {
    method: r.method,
    url: r.url,
    ...(r.body === undefined ? {} : { payload: r.body as object }),
    ...extra,
  });

describe("the guard on every route", () => {
  it("covers every route the gateway registers, the read routes included", () => {
    for (const r of ROUTES) expect(registered(r), `${r.method} ${r.pattern}`).toBe(true);
  });

  for (const r of ROUTES) {
    describe(`${r.method} ${r.pattern} (${r.role})`, () => {
      it("401 without a session cookie, with an unknown one, and with an expired session", async () => {
        expect((await send(r, undefined)).statusCode).toBe(401);
        const forged = {
          cookie: "pw_session=AAAA",
          csrfToken: "x",
          username: "x",
          role: "admin" as Role,
        };
        expect((await send(r, forged)).statusCode).toBe(401);
        const expired = await gw.session(`expired-${r.role}`, "admin", { expired: true });
        const res = await send(r, expired);
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toBe("unauthenticated");
      });

      const below = BELOW[r.role];
      if (below)
        it("403 for the role below", async () => {
          const res = await send(r, await gw.session(`low-${below}`, below));
          expect(res.statusCode).toBe(403);
          expect(res.json().error).toBe("forbidden");
        });

      if (r.method !== "GET")
        it("non-GET: 403 csrf without the header or with another session's token; 403 origin from a foreign Origin", async () => {
          const s = await gw.session(`csrf-${r.role}`, r.role);
          const other = await gw.session(`other-${r.role}`, r.role);
          for (const csrf of [false, other.csrfToken, `${s.csrfToken}x`] as const) {
            const res = await send(r, s, { csrf });
            expect(res.statusCode, String(csrf)).toBe(403);
            expect(res.json().error).toBe("csrf");
          }
          const foreign = await send(r, s, { headers: { origin: "https://evil.example" } });
          expect(foreign.statusCode).toBe(403);
          expect(foreign.json().error).toBe("origin");
          const same = await send(r, s, { headers: { origin: "http://localhost:80" } });
          expect([r.ok].flat()).toContain(same.statusCode);
        });

      if (!r.streaming)
        it(`${r.ok} for the right role (and for admin)`, async () => {
          for (const role of new Set<Role>([r.role, "admin"])) {
            const s = await gw.session(`ok-${role}-${r.pattern}`, role);
            const res = await send(r, s, { headers: { origin: "http://localhost:80" } });
            expect([r.ok].flat(), `${role}: ${res.statusCode} ${res.body}`).toContain(
              res.statusCode,
            );
          }
        });
    });
  }

  it("documents every registered /api route in /openapi.json", async () => {
    const doc = (await gw.app.inject({ method: "GET", url: "/openapi.json" })).json() as ReturnType<
      typeof openApiDocument
    >;
    expect(doc.openapi).toBe("3.1.0");
    for (const r of ROUTES.filter(registered)) {
      const path = (doc.paths as Record<string, Record<string, unknown>>)[openApiPath(r.pattern)];
      expect(path?.[r.method.toLowerCase()], `${r.method} ${r.pattern}`).toBeDefined();
    }
  });
});
