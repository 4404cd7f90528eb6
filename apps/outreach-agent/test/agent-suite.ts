// The agent's behaviour over HTTP, on whatever database `open` hands it (PGlite in the
// unit project, PostgreSQL in the integration project): validation, idempotency, each
// channel driver against its local server, the simulated inbox, readiness and metrics.
import { randomUUID } from "node:crypto";
import type { DbHandle } from "@pw/db";
import { agentDispatches } from "@pw/db/agent";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hs256TokenProvider } from "../src/client.ts";
import type { DispatchResponse } from "../src/contract.ts";
import { dispatchIdFor, INTERRUPTED_REASON, requestHash, validateRequest } from "../src/core.ts";
import {
  emailRequest,
  FOOTER,
  SECRET,
  startAgent,
  type TestAgent,
  UNSUBSCRIBE,
} from "./harness.ts";
import {
  startSmtpServer,
  startWebhookServer,
  type TestSmtpServer,
  type TestWebhookServer,
} from "./servers.ts";

export type OpenDatabase = () => Promise<{ db: DbHandle; close(): Promise<void> }>;

const json = <T = DispatchResponse>(res: { body: string }) => JSON.parse(res.body) as T;
type ErrorBody = { error: { code: string; message: string; field?: string } };

export function agentSuite(name: string, open: OpenDatabase) {
  describe(`outreach agent (${name})`, () => {
    let database: Awaited<ReturnType<OpenDatabase>>;
    let smtp: TestSmtpServer;
    let slack: TestWebhookServer;
    let inApp: TestWebhookServer;
    let agent: TestAgent;
    /** On a database of its own: unconfigured channels go to the simulated inbox. */
    let simulatedDatabase: Awaited<ReturnType<OpenDatabase>>;
    let simulated: TestAgent;
    const mailsTo = (to: string) => smtp.mails.filter((m) => m.envelope.to.includes(to));

    beforeAll(async () => {
      database = await open();
      [smtp, slack, inApp] = await Promise.all([
        startSmtpServer(),
        startWebhookServer(),
        startWebhookServer(),
      ]);
      agent = await startAgent(database.db, {
        AGENT_JWT_SECRET: SECRET,
        SMTP_URL: smtp.url.replace("smtp://", "smtp://agent:pw@"),
        SMTP_FROM: "Bob from Acme <bob@acme.test>",
        SLACK_WEBHOOK_URL: `${slack.url}/services/T0/B0/x`,
        IN_APP_WEBHOOK_URL: `${inApp.url}/hooks/in-app`,
        IN_APP_WEBHOOK_TOKEN: "in-app-token",
        AGENT_CHANNEL_TIMEOUT_MS: "3000",
      });
      simulatedDatabase = await open();
      simulated = await startAgent(simulatedDatabase.db, {
        AGENT_JWT_SECRET: SECRET,
        AGENT_UNCONFIGURED_CHANNELS: "simulate",
        SMTP_FROM: "Bob from Acme <bob@acme.test>",
      });
    }, 120_000);
    afterAll(async () => {
      await agent?.stop();
      await simulated?.stop();
      await simulatedDatabase?.close();
      await Promise.all([smtp?.close(), slack?.close(), inApp?.close()]);
      await database?.close();
    });

    describe("validation", () => {
      it.each([
        ["to", { to: undefined }],
        ["channel", { channel: undefined }],
        ["body", { body: undefined }],
        ["leadId", { leadId: "" }],
        ["channel", { channel: "fax" }],
        ["metadata.unsubscribe.url", { metadata: { unsubscribe: { url: "not a url" } } }],
      ])("400 invalid_request naming %s", async (field, change) => {
        const res = await agent.dispatch({ ...emailRequest(), ...change });
        expect(res.statusCode).toBe(400);
        expect(json<ErrorBody>(res).error).toMatchObject({ code: "invalid_request", field });
      });

      it("400 naming the Idempotency-Key header when it is missing or malformed", async () => {
        const missing = await agent.dispatch(emailRequest(), null);
        expect(missing.statusCode).toBe(400);
        expect(json<ErrorBody>(missing).error).toMatchObject({
          code: "invalid_request",
          field: "Idempotency-Key",
        });
        const spaced = await agent.dispatch(emailRequest(), "has a space");
        expect(json<ErrorBody>(spaced).error.field).toBe("Idempotency-Key");
      });

      it("400 for a body that is not JSON, and nothing is sent", async () => {
        const before = smtp.mails.length;
        const res = await agent.inject({
          method: "POST",
          url: "/v1/dispatch",
          headers: {
            authorization: `Bearer ${await tokenFor()}`,
            "idempotency-key": randomUUID(),
            "content-type": "application/json",
          },
          payload: "{not json",
        });
        expect(res.statusCode).toBe(400);
        expect(json<ErrorBody>(res).error.code).toBe("invalid_request");
        expect(smtp.mails.length).toBe(before);
      });
    });

    describe("e-mail over SMTP", () => {
      it("sends exactly one multipart mail with one-click unsubscribe headers and the footer", async () => {
        const request = emailRequest({ to: "one@example.org" });
        const res = await agent.dispatch(request, `k-${randomUUID()}`);
        expect(res.statusCode).toBe(202);
        const answer = json(res);
        expect(answer).toMatchObject({ status: "sent" });
        expect(answer.replayed).toBeUndefined();

        const mail = await smtp.waitForMail((m) => m.envelope.to.includes("one@example.org"));
        expect(mailsTo("one@example.org")).toHaveLength(1);
        expect(mail.subject).toBe(request.subject);
        expect(mail.from).toContain("bob@acme.test");
        // Our Message-ID, returned as the provider id, derived from the dispatch id.
        expect(mail.messageId).toBe(answer.providerMessageId);
        expect(answer.providerMessageId).toBe(`<${answer.dispatchId}@acme.test>`);
        expect(mail.headers.get("x-pw-dispatch-id")).toBe(answer.dispatchId);
        // Multipart: a text and an HTML part.
        expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/i);
        expect(mail.text).toContain("pipeline reviews still hurt");
        expect(mail.html).toContain("pipeline reviews still hurt");
        // RFC 8058: https first, then mailto, and the one-click POST marker.
        expect(mail.header("List-Unsubscribe")).toBe(
          `<${UNSUBSCRIBE.url}>, <mailto:${UNSUBSCRIBE.mailto}>`,
        );
        expect(mail.header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
        // The footer, in both parts.
        for (const part of [mail.text, mail.html ?? ""]) {
          expect(part).toContain(FOOTER.postalAddress);
          expect(part).toContain(FOOTER.unsubscribeText);
          expect(part).toContain(UNSUBSCRIBE.url);
        }
        // The body is escaped in HTML, never interpreted.
        expect(mail.html).toContain("&lt;team&gt; grew &amp; wondered");
        expect(mail.html).not.toContain("<team>");
      });

      it("the same key twice: one mail, the second answer replayed with the same dispatchId", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "twice@example.org" });
        const first = json(await agent.dispatch(request, key));
        await smtp.waitForMail((m) => m.envelope.to.includes("twice@example.org"));
        const second = await agent.dispatch(request, key);
        expect(second.statusCode).toBe(202);
        expect(json(second)).toEqual({ ...first, replayed: true });
        expect(mailsTo("twice@example.org")).toHaveLength(1);
      });

      it("the same key with another body: 422 idempotency_key_reused, nothing sent", async () => {
        const key = `k-${randomUUID()}`;
        await agent.dispatch(emailRequest({ to: "reuse@example.org" }), key);
        await smtp.waitForMail((m) => m.envelope.to.includes("reuse@example.org"));
        const res = await agent.dispatch(
          emailRequest({ to: "reuse@example.org", body: "Another text" }),
          key,
        );
        expect(res.statusCode).toBe(422);
        expect(json<ErrorBody>(res).error.code).toBe("idempotency_key_reused");
        expect(mailsTo("reuse@example.org")).toHaveLength(1);
      });

      it("two concurrent requests with one key while the first is sending: one 202, one 409, one mail", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "race@example.org" });
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let arrived!: () => void;
        const atServer = new Promise<void>((resolve) => {
          arrived = resolve;
        });
        smtp.onData = async () => {
          arrived();
          await held;
        };
        try {
          const first = agent.dispatch(request, key);
          await atServer; // the first request is now mid-send
          const second = await agent.dispatch(request, key);
          expect(second.statusCode).toBe(409);
          expect(json<ErrorBody>(second).error.code).toBe("in_progress");
          expect(Number(second.headers["retry-after"])).toBeGreaterThan(0);
          release();
          expect((await first).statusCode).toBe(202);
        } finally {
          smtp.onData = undefined;
          release();
        }
        const third = json(await agent.dispatch(request, key));
        expect(third).toMatchObject({ status: "sent", replayed: true });
        expect(mailsTo("race@example.org")).toHaveLength(1);
      });

      it("ten concurrent requests with one key: exactly one mail", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "herd@example.org" });
        const answers = await Promise.all(
          Array.from({ length: 10 }, () => agent.dispatch(request, key)),
        );
        const statuses = answers.map((a) => a.statusCode);
        expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
        const accepted = answers.filter((a) => a.statusCode === 202).map((a) => json(a));
        expect(accepted.filter((a) => !a.replayed)).toHaveLength(1);
        // Every request has returned: a second mail would have been handed to the server already.
        expect(mailsTo("herd@example.org")).toHaveLength(1);
      });

      it("SMTP 421: 503 channel_unavailable with Retry-After, and a retry with the key sends once", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "busy@example.org" });
        const rejectedBefore = smtp.rejected;
        smtp.failNext(1, { code: 421, message: "Try again later" });
        const first = await agent.dispatch(request, key);
        expect(first.statusCode).toBe(503);
        expect(json<ErrorBody>(first).error.code).toBe("channel_unavailable");
        expect(Number(first.headers["retry-after"])).toBeGreaterThan(0);
        expect(smtp.rejected).toBe(rejectedBefore + 1);
        const retry = await agent.dispatch(request, key);
        expect(retry.statusCode).toBe(202);
        expect(json(retry)).toMatchObject({ status: "sent" });
        expect(json(retry).replayed).toBeUndefined();
        await smtp.waitForMail((m) => m.envelope.to.includes("busy@example.org"));
        const again = json(await agent.dispatch(request, key));
        expect(again.replayed).toBe(true);
        expect(mailsTo("busy@example.org")).toHaveLength(1);
      });

      it("SMTP 451 at RCPT is transient too", async () => {
        smtp.failNext(1, { code: 451, stage: "rcpt" });
        const res = await agent.dispatch(emailRequest({ to: "greylisted@example.org" }));
        expect(res.statusCode).toBe(503);
      });

      it("SMTP 550: 202 failed with the reason, replayed as failed, nothing delivered", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "nobody@example.org" });
        smtp.failNext(1, { code: 550, message: "No such user", stage: "rcpt" });
        const res = await agent.dispatch(request, key);
        expect(res.statusCode).toBe(202);
        const answer = json(res);
        expect(answer.status).toBe("failed");
        expect(answer.reason).toMatch(/550/);
        expect(json(await agent.dispatch(request, key))).toEqual({ ...answer, replayed: true });
        expect(mailsTo("nobody@example.org")).toHaveLength(0);
      });

      it("refuses an e-mail without metadata.unsubscribe.url: failed, not sent", async () => {
        const res = await agent.dispatch(
          emailRequest({ to: "nounsub@example.org", metadata: { footer: FOOTER } }),
        );
        expect(res.statusCode).toBe(202);
        expect(json(res)).toMatchObject({ status: "failed" });
        expect(json(res).reason).toMatch(/unsubscribe/);
        expect(mailsTo("nounsub@example.org")).toHaveLength(0);
      });
    });

    describe("Slack webhook", () => {
      const slackRequest = (text: string) => ({
        leadId: "lead-slack",
        channel: "slack" as const,
        to: "#sales",
        subject: "New lead",
        body: text,
      });

      it("200 ok: sent, posted as {text}", async () => {
        slack.script({ status: 200, body: "ok" });
        const res = await agent.dispatch(slackRequest("hello <b> & co"));
        expect(res.statusCode).toBe(202);
        expect(json(res)).toMatchObject({ status: "sent" });
        const posted = await slack.waitForRequest((r) => r.text.includes("hello"));
        expect(posted.path).toBe("/services/T0/B0/x");
        expect(posted.json).toEqual({ text: "*New lead*\n\nhello &lt;b&gt; &amp; co" });
      });

      it("429 with Retry-After: 503 with that Retry-After", async () => {
        slack.script({ status: 429, body: "rate_limited", headers: { "retry-after": "7" } });
        const res = await agent.dispatch(slackRequest("rate limited"));
        expect(res.statusCode).toBe(503);
        expect(res.headers["retry-after"]).toBe("7");
      });

      it("500: 503 transient; the retry with the key is sent", async () => {
        const key = `k-${randomUUID()}`;
        slack.script(500);
        expect((await agent.dispatch(slackRequest("flaky"), key)).statusCode).toBe(503);
        const retry = await agent.dispatch(slackRequest("flaky"), key);
        expect(json(retry)).toMatchObject({ status: "sent" });
        expect(slack.requests.filter((r) => r.text.includes("flaky"))).toHaveLength(2);
      });

      it("404 no_service: 202 failed for good", async () => {
        slack.script({ status: 404, body: "no_service" });
        const res = await agent.dispatch(slackRequest("gone"));
        expect(res.statusCode).toBe(202);
        expect(json(res)).toMatchObject({ status: "failed" });
        expect(json(res).reason).toMatch(/404.*no_service/);
      });
    });

    describe("in-app webhook", () => {
      it("201 with an id: sent with that id, the product got the message and our key", async () => {
        inApp.script({ status: 201, body: { id: "msg_42" } });
        const res = await agent.dispatch({
          leadId: "lead-app",
          channel: "in_app",
          to: "user_7",
          subject: "Your trial",
          body: "Three days left",
        });
        expect(res.statusCode).toBe(202);
        const answer = json(res);
        expect(answer).toMatchObject({ status: "sent", providerMessageId: "msg_42" });
        const posted = await inApp.waitForRequest();
        expect(posted.path).toBe("/hooks/in-app");
        expect(posted.json).toEqual({
          leadId: "lead-app",
          to: "user_7",
          subject: "Your trial",
          body: "Three days left",
          dispatchId: answer.dispatchId,
        });
        expect(posted.headers["idempotency-key"]).toBe(answer.dispatchId);
        expect(posted.headers.authorization).toBe("Bearer in-app-token");
      });
    });

    describe("channels without a driver", () => {
      it("linkedin (no live driver) with AGENT_UNCONFIGURED_CHANNELS=fail: failed, not configured", async () => {
        const res = await agent.dispatch({
          leadId: "lead-li",
          channel: "linkedin",
          to: "urn:li:person:1",
          subject: "",
          body: "Hi",
        });
        expect(res.statusCode).toBe(202);
        expect(json(res)).toMatchObject({
          status: "failed",
          reason: "channel linkedin not configured",
        });
      });
    });

    describe("simulated inbox", () => {
      it("stores exactly what SMTP delivers for the same request and key", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "mirror@example.org" });
        const sent = json(await agent.dispatch(request, key));
        const mail = await smtp.waitForMail((m) => m.envelope.to.includes("mirror@example.org"));
        const stored = json(await simulated.dispatch(request, key));
        expect(stored.dispatchId).toBe(sent.dispatchId);
        expect(stored.providerMessageId).toMatch(/^sim-\d+$/);

        const inbox = await simulated.inject({
          method: "GET",
          url: `/v1/inbox?leadId=${request.leadId}`,
          headers: { authorization: `Bearer ${await tokenFor()}` },
        });
        expect(inbox.statusCode).toBe(200);
        const [row] = json<{ items: Record<string, unknown>[] }>(inbox).items;
        expect(row).toMatchObject({
          dispatchId: sent.dispatchId,
          channel: "email",
          to: "mirror@example.org",
          subject: mail.subject,
          text: mail.text.replace(/\n$/, ""),
          html: mail.html,
        });
        const headers = row!.headers as Record<string, string>;
        expect(headers["Message-ID"]).toBe(mail.messageId);
        for (const name of [
          "From",
          "To",
          "Subject",
          "List-Unsubscribe",
          "List-Unsubscribe-Post",
          "X-PW-Dispatch-Id",
        ])
          expect(headers[name], name).toBe(mail.header(name));
      });

      it("lists the inbox newest first, filtered by lead, and only with a token", async () => {
        for (const body of ["first", "second"])
          await simulated.dispatch({
            leadId: "lead-inbox",
            channel: "slack",
            to: "#x",
            subject: "",
            body,
          });
        await simulated.dispatch({
          leadId: "lead-else",
          channel: "linkedin",
          to: "u",
          subject: "",
          body: "x",
        });
        const res = await simulated.inject({
          method: "GET",
          url: "/v1/inbox?leadId=lead-inbox&limit=10",
          headers: { authorization: `Bearer ${await tokenFor()}` },
        });
        expect(json<{ items: { text: string }[] }>(res).items.map((i) => i.text)).toEqual([
          "second",
          "first",
        ]);
        const anonymous = await simulated.inject({ method: "GET", url: "/v1/inbox" });
        expect(anonymous.statusCode).toBe(401);
      });
    });

    describe("interrupted sends", () => {
      it("a key left `sending` past the stale limit is answered failed and never sent", async () => {
        const key = `k-${randomUUID()}`;
        const request = emailRequest({ to: "crashed@example.org" });
        // As a crash mid-send leaves it: claimed eleven minutes ago, never finished.
        const at = new Date(Date.now() - 11 * 60_000);
        await database.db.db.insert(agentDispatches).values({
          idempotencyKey: key,
          dispatchId: dispatchIdFor(key),
          requestHash: requestHash(validateRequest(request, key).request),
          leadId: request.leadId,
          channel: "email",
          state: "sending",
          createdAt: at,
          updatedAt: at,
        });
        const res = await agent.dispatch(request, key);
        expect(res.statusCode).toBe(202);
        expect(json(res)).toMatchObject({
          status: "failed",
          reason: INTERRUPTED_REASON,
          replayed: true,
        });
        const [row] = await database.db.db
          .select()
          .from(agentDispatches)
          .where(eq(agentDispatches.idempotencyKey, key));
        expect(row?.state).toBe("failed");
        expect(mailsTo("crashed@example.org")).toHaveLength(0);
      });
    });

    describe("operations", () => {
      it("readiness lists a check per channel; metrics count dispatches by channel and result", async () => {
        const ready = await agent.inject({ method: "GET", url: "/readyz" });
        expect(ready.statusCode).toBe(200);
        const checks = json<{ checks: Record<string, { status: string; required: boolean }> }>(
          ready,
        ).checks;
        expect(checks.channel_email).toMatchObject({ status: "ok", required: false });
        expect(checks.channel_slack?.status).toBe("ok");
        expect(checks.channel_linkedin?.status).toBe("not_configured");
        const metrics = (await agent.inject({ method: "GET", url: "/metrics" })).body;
        expect(metrics).toMatch(
          /pw_agent_dispatches_total\{[^}]*channel="email"[^}]*result="sent"/,
        );
        expect(metrics).toMatch(
          /pw_agent_dispatches_total\{[^}]*channel="email"[^}]*result="replayed"/,
        );
      });
    });
  });
}

const tokenFor = hs256TokenProvider(SECRET);
