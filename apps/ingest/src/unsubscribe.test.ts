// One-click unsubscribe (RFC 8058) on the embedded services: a valid link's POST publishes
// one `unsubscribed` outcome whatever the body, a bad link is a 400 that publishes nothing,
// a GET only shows a page, and a repeat is acknowledged without publishing again.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "@pw/bus";
import { signUnsubscribeToken, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedServices, newSecret, type Services, tap } from "../test/harness.ts";
import { ingestConfig } from "./config.ts";
import { startIngest } from "./start.ts";
import { unsubscribeEventId } from "./unsubscribe.ts";

const unsubSecret = () => randomBytes(24).toString("base64url");

/** Ingest as `main` starts it, with `UNSUBSCRIBE_SECRETS` set to `secrets` (none: unset). */
async function startWith(services: Pick<Services, "bus" | "db">, secrets: string[]) {
  const config = ingestConfig({
    WEBHOOK_SECRET: newSecret(),
    ...(secrets.length ? { UNSUBSCRIBE_SECRETS: secrets.join(",") } : {}),
  });
  return startIngest(config, {
    bus: services.bus,
    db: services.db,
    listen: false,
    logger: createLogger({ service: "ingest-test", level: "silent" }),
  });
}

type Outcome = {
  id: string;
  type: string;
  source: string;
  subject: string;
  traceparent?: string;
  data: { outcome: string; occurredAt: string; requestId?: string; channel?: string };
};

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const ONE_CLICK = "List-Unsubscribe=One-Click";

describe("one-click unsubscribe", () => {
  let services: Services;
  let topic: Awaited<ReturnType<typeof tap>>;
  let running: Awaited<ReturnType<typeof startWith>>;
  const secret = unsubSecret();
  let seq = 0;
  /** A token for a fresh lead, so each test reads only its own events. */
  const link = (o: { requestId?: string; channel?: string; secret?: string } = {}) => {
    const leadId = `lead-unsub-${++seq}`;
    const token = signUnsubscribeToken(
      {
        leadId,
        requestId: o.requestId ?? `req_${seq}`,
        ...(o.channel !== "" ? { channel: o.channel ?? "email" } : {}),
      },
      o.secret ?? secret,
    );
    return { leadId, token, url: `/unsubscribe/${token}` };
  };
  const outcomesFor = (leadId: string): Outcome[] =>
    topic.messages
      .filter((m: IncomingMessage) => m.topic === Topics.outreachOutcomes && m.key === leadId)
      .map((m) => JSON.parse(m.value));
  /** The lead's first outcome, once the tap has it. */
  const outcomeOf = async (leadId: string) => {
    await waitFor(() => outcomesFor(leadId).length > 0, { message: `${leadId}'s outcome` });
    return outcomesFor(leadId)[0]!;
  };
  /** Proves the tap is live, then that nothing but `sentinel`'s event came for `leadIds`. */
  async function expectNothingFor(leadIds: string[]) {
    const sentinel = link();
    const res = await running.app.inject({ method: "POST", url: sentinel.url });
    expect(res.statusCode).toBe(200);
    await waitFor(() => outcomesFor(sentinel.leadId).length === 1, { message: "the sentinel" });
    for (const id of leadIds) expect(outcomesFor(id)).toEqual([]);
  }

  beforeAll(async () => {
    services = await embeddedServices();
    topic = await tap(services.bus);
    running = await startWith(services, [secret]);
  }, 60_000);
  afterAll(async () => {
    await running.stop();
    await topic.close();
    await services.close();
  });

  it("POST with RFC 8058's form body answers 200 after the ack and publishes one unsubscribed outcome", async () => {
    const { leadId, token, url } = link({ requestId: "req_abc", channel: "email" });
    const started = Date.now();
    const res = await running.app.inject({
      method: "POST",
      url,
      headers: FORM,
      payload: ONE_CLICK,
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ unsubscribed: true });
    const event = await outcomeOf(leadId);
    expect(event).toMatchObject({
      id: unsubscribeEventId(token),
      type: "outreach.outcome.v1",
      source: "pw://ingest",
      subject: leadId,
      data: { outcome: "unsubscribed", requestId: "req_abc", channel: "email" },
    });
    expect(event.id).toMatch(/^unsub:[0-9a-f]{64}$/);
    expect(Math.abs(Date.parse(event!.data.occurredAt) - started)).toBeLessThan(5_000);
    expect(event.traceparent).toMatch(/^00-[0-9a-f]{32}-/);
    expect(outcomesFor(leadId)).toHaveLength(1);
  });

  it("takes any body — none, multipart, JSON, text, junk — since the token is the authority", async () => {
    const cases = [
      { name: "no body, no content-type" },
      { name: "empty form", headers: FORM, payload: "" },
      {
        name: "multipart",
        headers: { "content-type": "multipart/form-data; boundary=xyz" },
        payload: `--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--xyz--\r\n`,
      },
      { name: "JSON", headers: { "content-type": "application/json" }, payload: "{}" },
      { name: "broken JSON", headers: { "content-type": "application/json" }, payload: "{" },
      { name: "text", headers: { "content-type": "text/plain" }, payload: ONE_CLICK },
      { name: "no content-type, a body", payload: ONE_CLICK },
    ];
    const leads: string[] = [];
    for (const c of cases) {
      const { leadId, url } = link();
      leads.push(leadId);
      const res = await running.app.inject({
        method: "POST",
        url,
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.payload !== undefined ? { payload: c.payload } : {}),
      });
      expect(res.statusCode, `${c.name}: ${res.body}`).toBe(200);
    }
    await waitFor(() => leads.every((l) => outcomesFor(l).length === 1), {
      message: "one outcome per lead",
    });
    // A link without a channel or request (an operator's test mail) still works.
    const bare = signUnsubscribeToken({ leadId: "lead-bare" }, secret);
    expect(
      (await running.app.inject({ method: "POST", url: `/unsubscribe/${bare}` })).statusCode,
    ).toBe(200);
    const event = await outcomeOf("lead-bare");
    expect(event.data).toEqual({ outcome: "unsubscribed", occurredAt: expect.any(String) });
  });

  it("the same link POSTed again, or twice at once, publishes once and answers 200 duplicate", async () => {
    const { leadId, token, url } = link();
    const first = await running.app.inject({
      method: "POST",
      url,
      headers: FORM,
      payload: ONE_CLICK,
    });
    const concurrent = await Promise.all(
      [1, 2, 3].map(() =>
        running.app.inject({ method: "POST", url, headers: FORM, payload: ONE_CLICK }),
      ),
    );
    expect(first.json()).toEqual({ unsubscribed: true });
    for (const r of concurrent) {
      expect(r.statusCode).toBe(200);
      expect(r.json()).toEqual({ unsubscribed: true, duplicate: true });
    }
    // The same signature spelt with base64 padding is the same link, not a second click.
    const padded = await running.app.inject({ method: "POST", url: `${url}=` });
    expect(padded.statusCode).toBe(200);
    expect(padded.json()).toEqual({ unsubscribed: true, duplicate: true });
    await expectNothingFor([]);
    expect(outcomesFor(leadId).map((e) => e.id)).toEqual([unsubscribeEventId(token)]);
    // A restarted ingest (receipts in the database) still knows it.
    const again = await startWith(services, [secret]);
    const later = await again.app.inject({ method: "POST", url });
    expect(later.json()).toEqual({ unsubscribed: true, duplicate: true });
    await again.stop();
    expect(outcomesFor(leadId)).toHaveLength(1);
  });

  it("refuses forged, truncated, foreign and malformed tokens with 400 invalid_token, publishing nothing", async () => {
    const genuine = link();
    const [payload, sig] = genuine.token.split(".") as [string, string];
    const otherLead = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), l: "victim" }),
    ).toString("base64url");
    const foreign = link({ secret: unsubSecret() });
    const cases: [string, string, RegExp][] = [
      ["another lead with the genuine signature", `${otherLead}.${sig}`, /signature/],
      ["truncated signature", genuine.token.slice(0, -6), /signature/],
      ["truncated payload", `${payload.slice(0, 20)}.${sig}`, /signature/],
      ["payload only", payload, /payload.*signature/],
      ["signed with a secret ingest does not hold", foreign.token, /signature/],
      ["three parts", `${genuine.token}.x`, /payload.*signature/],
      ["not a token at all", "hello", /payload.*signature/],
      ["far too long", `${"a".repeat(3_000)}.${sig}`, /too long/],
    ];
    const failures: string[] = [];
    for (const [name, token, why] of cases) {
      for (const method of ["POST", "GET"] as const) {
        const res = await running.app.inject({ method, url: `/unsubscribe/${token}` });
        if (res.statusCode !== 400) failures.push(`${method} ${name}: ${res.statusCode}`);
        if (method === "POST") {
          const err = res.json().error;
          if (err?.code !== "invalid_token" || !why.test(err.message))
            failures.push(`${name}: ${JSON.stringify(err)}`);
        } else if (!res.headers["content-type"]?.toString().startsWith("text/html"))
          failures.push(`GET ${name}: not a page`);
      }
    }
    expect(failures).toEqual([]);
    await expectNothingFor(["victim", genuine.leadId, foreign.leadId]);
  });

  it("GET shows a plain page whose button POSTs to the same URL, and unsubscribes nobody", async () => {
    const { leadId, url } = link({ channel: "email" });
    const res = await running.app.inject({ method: "GET", url });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.body).toContain(leadId);
    expect(res.body).toMatch(/<form method="post">/);
    expect(res.body).toMatch(/<button type="submit">Unsubscribe<\/button>/);
    expect(res.body).not.toMatch(/<script|javascript:|\saction=/i);
    // Scanners prefetch, and may HEAD too.
    expect((await running.app.inject({ method: "HEAD", url })).statusCode).toBe(200);
    await expectNothingFor([leadId]);
    // The button: a browser's form POST gets a page back, and the lead is unsubscribed.
    const clicked = await running.app.inject({
      method: "POST",
      url,
      headers: { ...FORM, accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
      payload: ONE_CLICK,
    });
    expect(clicked.statusCode).toBe(200);
    expect(clicked.headers["content-type"]).toContain("text/html");
    expect(clicked.body).toContain("You are unsubscribed");
    await waitFor(() => outcomesFor(leadId).length === 1, { message: "the button's outcome" });
  });

  it("verifies links signed with any of the rotating secrets (the old one keeps working)", async () => {
    const next = unsubSecret();
    const rotating = await startWith(services, [next, secret]);
    const old = link({ secret });
    const fresh = link({ secret: next });
    for (const l of [old, fresh]) {
      const res = await rotating.app.inject({ method: "POST", url: l.url });
      expect(res.statusCode, res.body).toBe(200);
    }
    await waitFor(
      () => outcomesFor(old.leadId).length === 1 && outcomesFor(fresh.leadId).length === 1,
    );
    await rotating.stop();
  });

  it("without a secret: routes answer 503 not_configured and readiness says so (not required)", async () => {
    const bare = await startWith(services, []);
    const { leadId, url } = link();
    const post = await bare.app.inject({ method: "POST", url });
    expect(post.statusCode).toBe(503);
    expect(post.json().error).toMatchObject({
      code: "not_configured",
      message: "unsubscribe not configured",
    });
    expect((await bare.app.inject({ method: "GET", url })).statusCode).toBe(503);
    const ready = await bare.app.inject({ url: "/readyz" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.unsubscribe).toMatchObject({
      status: "not_configured",
      required: false,
    });
    await bare.stop();
    expect((await running.app.inject({ url: "/readyz" })).json().checks.unsubscribe).toMatchObject({
      status: "ok",
    });
    await expectNothingFor([leadId]);
  });

  it("answers 503 + Retry-After while the broker or the database cannot take it, and the retry goes through", async () => {
    const own = await embeddedServices();
    const app = await startWith(own, [secret]);
    const { url } = link();
    await own.bus.close();
    const noBus = await app.app.inject({ method: "POST", url, headers: FORM, payload: ONE_CLICK });
    expect(noBus.statusCode).toBe(503);
    expect(noBus.headers["retry-after"]).toBe("5");
    expect(noBus.json().error.code).toBe("broker_unavailable");
    await own.db.close();
    const noDb = await app.app.inject({ method: "POST", url, headers: FORM, payload: ONE_CLICK });
    expect(noDb.statusCode).toBe(503);
    expect(noDb.headers["retry-after"]).toBe("5");
    expect(noDb.json().error.code).toBe("database_unavailable");
    await app.stop();
    // Nothing was recorded: the provider's retry, once things are back, publishes it.
    const retry = await running.app.inject({ method: "POST", url });
    expect(retry.json()).toEqual({ unsubscribed: true });
  }, 60_000);

  it("counts unsubscribes by result and documents the routes", async () => {
    const metrics = (await running.app.inject({ url: "/metrics" })).body;
    for (const result of ["unsubscribed", "duplicate", "invalid_token"])
      expect(metrics).toMatch(
        new RegExp(`pw_ingest_unsubscribes_total\\{result="${result}",service="ingest"\\} [1-9]`),
      );
    const doc = (await running.app.inject({ url: "/openapi.json" })).json();
    expect(Object.keys(doc.paths["/unsubscribe/{token}"]).sort()).toEqual(["get", "post"]);
    const docs = await running.app.inject({ url: "/docs" });
    expect(docs.body).toContain("POST /unsubscribe/{token}");
  });

  it("takes a link with the longest ids a token may carry", async () => {
    const leadId = `lead-${"x".repeat(195)}`;
    const token = signUnsubscribeToken(
      { leadId, requestId: "r".repeat(200), channel: "email" },
      secret,
    );
    expect(token.length).toBeGreaterThan(500);
    const res = await running.app.inject({ method: "POST", url: `/unsubscribe/${token}` });
    expect(res.statusCode, res.body).toBe(200);
    await waitFor(() => outcomesFor(leadId).length === 1);
  });
});
