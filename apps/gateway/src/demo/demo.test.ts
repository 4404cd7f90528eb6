// Demo mode's "trigger an outcome by hand", through `app.inject` on PGlite, against a
// local HTTP server standing in for ingest's `/webhooks/outcomes` that checks the
// Standard Webhooks signature as ingest does (and can refuse or be gone).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, migrate } from "@pw/db";
import { createLogger } from "@pw/logger";
import Fastify, { type FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { crm, requested, scored } from "../../test/read-fixtures.ts";
import { createLiveHub, readModel } from "../read/index.ts";
import { registerDemoRoutes } from "./index.ts";

const silent = createLogger({ service: "gateway-test", level: "silent" });
const SECRET = `whsec_${Buffer.from("a demo secret of thirty-two bytes").toString("base64")}`;

type Received = { headers: Record<string, string>; body: Record<string, unknown> };

describe("demo outcomes (gateway)", () => {
  let handle: Awaited<ReturnType<typeof createDb>>;
  let ingest: Server;
  let ingestUrl: string;
  let answer: { status: number; body: Record<string, unknown> };
  const received: Received[] = [];
  const apps: FastifyInstance[] = [];

  const gateway = async (settings: { ingestUrl: string; webhookSecret: string } | undefined) => {
    const app = Fastify();
    registerDemoRoutes(app, {
      db: handle.db,
      logger: silent,
      settings,
      // Lets everyone in as an operator (the guard itself is tested with the auth routes).
      guard: () => async (req) => {
        req.operator = {
          username: "ops",
          role: "operator",
          csrfToken: "t",
          expiresAt: new Date(Date.now() + 60_000),
        };
      },
    });
    await app.ready();
    apps.push(app);
    return app;
  };
  const post = async (app: FastifyInstance, payload: unknown) => {
    const res = await app.inject({
      method: "POST",
      url: "/api/demo/outcomes",
      payload: payload as object,
    });
    // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
    return { status: res.statusCode, body: res.json() as any };
  };

  beforeAll(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    const model = readModel({
      db: handle.db,
      logger: silent,
      hub: createLiveHub({ db: handle.db, logger: silent }),
    });
    await model.handle("lead.events.v1", crm("ada", { firstName: "Ada", email: "ada@x.io" }));
    await model.handle(
      "lead.scored.v1",
      scored("ada", { score: 80, tier: "hot", segment: "vp_mid" }),
    );
    await model.handle("outreach.requested.v1", requested("ada"));
    await model.handle("lead.events.v1", crm("bob", { firstName: "Bob", email: "bob@x.io" }));
    ingest = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const headers = req.headers as Record<string, string>;
        try {
          new Webhook(SECRET).verify(raw, headers);
        } catch {
          res.writeHead(401, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "bad_signature", message: "signature does not verify" }));
          return;
        }
        received.push({ headers, body: JSON.parse(raw) });
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => ingest.listen(0, "127.0.0.1", r));
    ingestUrl = `http://127.0.0.1:${(ingest.address() as AddressInfo).port}`;
  }, 60_000); // migrating a fresh PGlite takes seconds on a busy machine
  beforeEach(() => {
    received.length = 0;
    answer = { status: 202, body: { eventId: "evt_1" } };
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await new Promise((r) => ingest.close(r));
    await handle.close();
  });

  it("offers nothing outside demo mode and answers 404 not_demo to a post", async () => {
    const app = await gateway(undefined);
    const offer = await app.inject({ method: "GET", url: "/api/demo" });
    expect(offer.json()).toEqual({ outcomes: [] });
    const res = await post(app, { leadId: "ada", outcome: "converted" });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe("not_demo");
    expect(received).toEqual([]);
  });

  it("posts a signed outcome naming the lead's latest request, as a provider would", async () => {
    const app = await gateway({ ingestUrl, webhookSecret: SECRET });
    const offer = await app.inject({ method: "GET", url: "/api/demo" });
    expect(offer.json().outcomes).toEqual([
      "replied",
      "meeting_booked",
      "converted",
      "unsubscribed",
    ]);
    const res = await post(app, { leadId: "ada", outcome: "replied", text: "Tuesday works." });
    expect(res).toEqual({
      status: 202,
      body: { eventId: "evt_1", leadId: "ada", outcome: "replied", requestId: "req_ada" },
    });
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toMatchObject({
      type: "replied",
      leadId: "ada",
      requestId: "req_ada",
      replyText: "Tuesday works.",
    });
    expect(received[0]!.headers["webhook-id"]).toMatch(/^demo_/);
    // Each press is its own event: a second one is not deduplicated away as a redelivery.
    await post(app, { leadId: "ada", outcome: "converted" });
    expect(received[1]!.headers["webhook-id"]).not.toBe(received[0]!.headers["webhook-id"]);
    expect(received[1]!.body).not.toHaveProperty("replyText");
  });

  it("sends no request id for a lead that was never contacted", async () => {
    const app = await gateway({ ingestUrl, webhookSecret: SECRET });
    const res = await post(app, { leadId: "bob", outcome: "unsubscribed" });
    expect(res.status).toBe(202);
    expect(received[0]!.body).not.toHaveProperty("requestId");
  });

  it.each([
    [{ outcome: "converted" }, "leadId"],
    [{ leadId: "ada", outcome: "bounced" }, "outcome"],
    [{ leadId: "ada", outcome: "replied", text: "" }, "text"],
    [{ leadId: "ada", outcome: "converted", extra: 1 }, "(body)"],
  ])("refuses %j with 400 naming %s", async (payload, field) => {
    const app = await gateway({ ingestUrl, webhookSecret: SECRET });
    const res = await post(app, payload);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe("invalid_body");
    expect(res.body.issues.map((i: { field: string }) => i.field)).toContain(field);
    expect(received).toEqual([]);
  });

  it("answers 404 naming leadId for a lead it does not know", async () => {
    const app = await gateway({ ingestUrl, webhookSecret: SECRET });
    const res = await post(app, { leadId: "nobody", outcome: "converted" });
    expect(res.status).toBe(404);
    expect(res.body.issues).toEqual([{ field: "leadId" }]);
    expect(received).toEqual([]);
  });

  it("says 502 with ingest's reason when ingest refuses, 503 when ingest is gone", async () => {
    const app = await gateway({ ingestUrl, webhookSecret: SECRET });
    answer = { status: 422, body: { error: "invalid", message: "requestId: unknown" } };
    const refused = await post(app, { leadId: "ada", outcome: "converted" });
    expect(refused.status).toBe(502);
    expect(refused.body.message).toContain("422");
    expect(refused.body.message).toContain("requestId: unknown");
    // A wrong secret is refused by ingest's signature check, and said so.
    const wrong = await gateway({
      ingestUrl,
      webhookSecret: `whsec_${Buffer.from("another secret, also 32 bytes!!").toString("base64")}`,
    });
    const unsigned = await post(wrong, { leadId: "ada", outcome: "converted" });
    expect(unsigned.status).toBe(502);
    expect(unsigned.body.message).toContain("401");
    const gone = await gateway({ ingestUrl: "http://127.0.0.1:1", webhookSecret: SECRET });
    const down = await post(gone, { leadId: "ada", outcome: "converted" });
    expect(down.status).toBe(503);
    expect(down.body.error).toBe("ingest_unavailable");
  });
});
