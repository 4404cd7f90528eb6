// The HTTP client's mapping of the agent's answers onto AgentPort: against the real agent
// on a socket, and against a scripted server for the answers the agent rarely gives.
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgliteDatabase, SECRET, startAgent, type TestAgent } from "../test/harness.ts";
import { startWebhookServer, type TestWebhookServer } from "../test/servers.ts";
import { createAgentClient, hs256TokenProvider } from "./client.ts";
import { AgentRejectedError, AgentTransientError, type DispatchRequest } from "./contract.ts";

const slackRequest = (body: string): DispatchRequest => ({
  leadId: "lead-client",
  channel: "slack",
  to: "#sales",
  subject: "",
  body,
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("createAgentClient", () => {
  let database: Awaited<ReturnType<typeof pgliteDatabase>>;
  let agent: TestAgent;
  let slack: TestWebhookServer;
  let scripted: TestWebhookServer;

  beforeAll(async () => {
    database = await pgliteDatabase();
    [slack, scripted] = await Promise.all([startWebhookServer(), startWebhookServer()]);
    agent = await startAgent(database.db, {
      AGENT_JWT_SECRET: SECRET,
      SLACK_WEBHOOK_URL: `${slack.url}/hook`,
      AGENT_UNCONFIGURED_CHANNELS: "simulate",
    });
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await Promise.all([slack?.close(), scripted?.close()]);
    await database?.close();
  });

  const realClient = (token = hs256TokenProvider(SECRET)) =>
    createAgentClient({ url: agent.url, tokenProvider: token, timeoutMs: 5_000 });

  it("202: the DispatchResponse; the same key again is replayed", async () => {
    const client = realClient();
    try {
      const first = await client.dispatch(slackRequest("hello"), "client-k1");
      expect(first).toMatchObject({ status: "sent" });
      const again = await client.dispatch(slackRequest("hello"), "client-k1");
      expect(again).toEqual({ ...first, replayed: true });
      expect(slack.requests.filter((r) => r.text.includes("hello"))).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("400: AgentRejectedError naming the field", async () => {
    const client = realClient();
    try {
      const error = await failure(
        client.dispatch({ ...slackRequest("x"), to: undefined } as unknown as DispatchRequest, "k"),
      );
      expect(error).toBeInstanceOf(AgentRejectedError);
      expect(error).toMatchObject({ status: 400, code: "invalid_request", field: "to" });
    } finally {
      await client.close();
    }
  });

  it("401: AgentRejectedError (a bad token never gets better by retrying)", async () => {
    const client = realClient(hs256TokenProvider(`${SECRET}-wrong`));
    try {
      const error = await failure(client.dispatch(slackRequest("x"), "client-401"));
      expect(error).toBeInstanceOf(AgentRejectedError);
      expect(error).toMatchObject({ status: 401, code: "unauthorized" });
    } finally {
      await client.close();
    }
  });

  it("422: AgentRejectedError idempotency_key_reused", async () => {
    const client = realClient();
    try {
      await client.dispatch(slackRequest("one"), "client-422");
      const error = await failure(client.dispatch(slackRequest("two"), "client-422"));
      expect(error).toMatchObject({ status: 422, code: "idempotency_key_reused" });
    } finally {
      await client.close();
    }
  });

  it("503 from the agent (its channel is down): AgentTransientError with the Retry-After", async () => {
    slack.script({ status: 503, headers: { "retry-after": "9" } });
    const client = realClient();
    try {
      const error = await failure(client.dispatch(slackRequest("down"), "client-503"));
      expect(error).toBeInstanceOf(AgentTransientError);
      expect((error as AgentTransientError).retryAfterMs).toBe(9_000);
      // The key was released: the retry sends.
      expect(await client.dispatch(slackRequest("down"), "client-503")).toMatchObject({
        status: "sent",
      });
    } finally {
      await client.close();
    }
  });

  describe("against a scripted server", () => {
    const client = () =>
      createAgentClient({ url: `${scripted.url}/prefix/`, token: "static-token", timeoutMs: 500 });

    it("sends the bearer, the key and the body to {url}/v1/dispatch", async () => {
      scripted.script({ status: 202, body: { dispatchId: "d_1", status: "sent" } });
      const c = client();
      try {
        await c.dispatch(slackRequest("payload"), "key-1");
        const seen = await scripted.waitForRequest((r) => r.text.includes("payload"));
        expect(seen.path).toBe("/prefix/v1/dispatch");
        expect(seen.headers.authorization).toBe("Bearer static-token");
        expect(seen.headers["idempotency-key"]).toBe("key-1");
        expect(seen.json).toMatchObject({ leadId: "lead-client", body: "payload" });
      } finally {
        await c.close();
      }
    });

    it("202 with fields it does not know: accepted, extras dropped", async () => {
      scripted.script({
        status: 202,
        body: { dispatchId: "d_2", status: "sent", providerMessageId: "p", cost: 3 },
      });
      const c = client();
      try {
        expect(await c.dispatch(slackRequest("x"), "k")).toEqual({
          dispatchId: "d_2",
          status: "sent",
          providerMessageId: "p",
        });
      } finally {
        await c.close();
      }
    });

    it("202 that is not a DispatchResponse: rejected as malformed (retrying would replay it)", async () => {
      scripted.script({ status: 202, body: { ok: true } });
      const c = client();
      try {
        expect(await failure(c.dispatch(slackRequest("x"), "k"))).toMatchObject({
          code: "malformed_response",
        });
      } finally {
        await c.close();
      }
    });

    it.each([
      [409, { error: { code: "in_progress", message: "busy" } }, "2", "in_progress", 2_000],
      [429, { error: { code: "rate_limited", message: "slow down" } }, "3", /429/, 3_000],
      [
        503,
        { error: { code: "channel_unavailable", message: "smtp down" } },
        "7",
        /smtp down/,
        7_000,
      ],
      [500, "oops", undefined, /500/, 5_000],
    ])("%i: AgentTransientError", async (status, body, retryAfter, message, waitMs) => {
      scripted.script({
        status,
        body,
        ...(retryAfter ? { headers: { "retry-after": retryAfter } } : {}),
      });
      const c = client();
      try {
        const error = await failure(c.dispatch(slackRequest("x"), "k"));
        expect(error).toBeInstanceOf(AgentTransientError);
        expect((error as AgentTransientError).message).toMatch(message);
        expect((error as AgentTransientError).retryAfterMs).toBe(waitMs);
      } finally {
        await c.close();
      }
    });

    it.each([400, 401, 403, 422])("%i: AgentRejectedError", async (status) => {
      scripted.script({ status, body: { error: { code: `code_${status}`, message: "no" } } });
      const c = client();
      try {
        const error = await failure(c.dispatch(slackRequest("x"), "k"));
        expect(error).toBeInstanceOf(AgentRejectedError);
        expect(error).toMatchObject({ status, code: `code_${status}` });
      } finally {
        await c.close();
      }
    });

    it("a server that never answers: AgentTransientError once the timeout passes", async () => {
      scripted.script({ hang: true });
      const c = client();
      try {
        const started = Date.now();
        const error = await failure(c.dispatch(slackRequest("x"), "k"));
        expect(error).toBeInstanceOf(AgentTransientError);
        expect((error as Error).message).toMatch(/no answer within 500 ms/);
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await c.close();
      }
    });

    it("nobody listening: AgentTransientError", async () => {
      const gone = await startWebhookServer();
      const url = gone.url;
      await gone.close();
      const c = createAgentClient({ url, token: "t", timeoutMs: 2_000 });
      try {
        const error = await failure(c.dispatch(slackRequest("x"), "k"));
        expect(error).toBeInstanceOf(AgentTransientError);
        expect((error as Error).message).toMatch(/unreachable/);
      } finally {
        await c.close();
      }
    });
  });
});

describe("hs256TokenProvider", () => {
  it("mints a short-lived HS256 token with the claims, and reuses it", async () => {
    const provider = hs256TokenProvider(SECRET, {
      issuer: "dispatch",
      audience: "agent",
      ttlSec: 120,
    });
    const token = await provider();
    expect(await provider()).toBe(token);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: "dispatch", aud: "agent", sub: "dispatch" });
    expect(claims.exp! - claims.iat!).toBe(120);
  });

  it("refuses a short secret", () => {
    expect(() => hs256TokenProvider("short")).toThrow(/32/);
  });
});
