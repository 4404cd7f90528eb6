// Who may call the agent: the 401 matrix on POST /v1/dispatch for each kind of key (JWKS,
// PEM public key, HS256 secret), an agent without a key, and AGENT_AUTH=none.
import { randomUUID } from "node:crypto";
import { createLogger } from "@pw/logger";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgliteDatabase, SECRET } from "../test/harness.ts";
import { type JwtFixture, jwtFixture } from "../test/servers.ts";
import { hs256TokenProvider } from "./client.ts";
import { agentConfig } from "./config.ts";
import { startOutreachAgent } from "./start.ts";

type Database = Awaited<ReturnType<typeof pgliteDatabase>>;

/** A simulated agent with `env`, and its log lines. */
async function agentWith(database: Database, env: Record<string, string>) {
  const lines: string[] = [];
  const logger = createLogger({
    service: "auth-test",
    level: "warn",
    destination: { write: (line: string) => void lines.push(line) },
  });
  const running = await startOutreachAgent(
    agentConfig({
      PORT: "0",
      ALLOW_INSECURE_VENDOR_URLS: "1",
      AGENT_UNCONFIGURED_CHANNELS: "simulate",
      ...env,
    }),
    { db: database.db, logger, listen: false },
  );
  const call = (authorization?: string) =>
    running.app.inject({
      method: "POST",
      url: "/v1/dispatch",
      headers: {
        ...(authorization === undefined ? {} : { authorization }),
        "idempotency-key": randomUUID(),
      },
      payload: { leadId: "lead-auth", channel: "slack", to: "#x", subject: "", body: "hello" },
    });
  return { running, lines, call };
}

const bearer = (token: string) => `Bearer ${token}`;

describe("bearer JWT on /v1/dispatch", () => {
  let database: Database;
  let ed: JwtFixture;
  let rsa: JwtFixture;
  let jwks: Awaited<ReturnType<typeof agentWith>>;
  let pem: Awaited<ReturnType<typeof agentWith>>;
  let hmac: Awaited<ReturnType<typeof agentWith>>;

  beforeAll(async () => {
    database = await pgliteDatabase();
    [ed, rsa] = await Promise.all([jwtFixture({ alg: "EdDSA" }), jwtFixture({ alg: "RS256" })]);
    jwks = await agentWith(database, {
      AGENT_JWT_JWKS_URL: ed.jwksUrl,
      AGENT_JWT_ISSUER: ed.issuer,
      AGENT_JWT_AUDIENCE: ed.audience,
    });
    pem = await agentWith(database, {
      AGENT_JWT_PUBLIC_KEY: rsa.publicPem,
      AGENT_JWT_ISSUER: rsa.issuer,
      AGENT_JWT_AUDIENCE: rsa.audience,
    });
    hmac = await agentWith(database, { AGENT_JWT_SECRET: SECRET, AGENT_JWT_AUDIENCE: "agent" });
  }, 60_000);
  afterAll(async () => {
    for (const a of [jwks, pem, hmac]) await a?.running.stop();
    await Promise.all([ed?.close(), rsa?.close()]);
    await database?.close();
  });

  const unauthorized = async (res: Awaited<ReturnType<typeof jwks.call>>, description?: RegExp) => {
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body).error.code).toBe("unauthorized");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="outreach-agent"/);
    if (description) expect(res.headers["www-authenticate"]).toMatch(description);
  };

  it("JWKS (Ed25519): a valid token is accepted", async () => {
    expect((await jwks.call(bearer(await ed.token()))).statusCode).toBe(202);
  });

  it.each([
    ["no token", async () => undefined, undefined],
    ["a Basic credential", async () => "Basic dXNlcjpwYXNz", /invalid_token/],
    ["a malformed token", async () => bearer("not.a.jwt"), /malformed/],
    ["an expired token", async () => bearer(await ed.expiredToken()), /expired/],
    ["a wrong issuer", async () => bearer(await ed.wrongIssuerToken()), /wrong issuer/],
    ["a wrong audience", async () => bearer(await ed.wrongAudienceToken()), /wrong audience/],
    ["another key", async () => bearer(await ed.otherKeyToken()), /signature/],
    [
      "an RS256 token of another issuer's key",
      async () => bearer(await rsa.token()),
      /invalid_token/,
    ],
    [
      "an HS256 token (no secret configured)",
      async () => bearer(await hs256TokenProvider(SECRET)()),
      /HS256/,
    ],
  ])("JWKS: 401 for %s", async (_name, header, description) => {
    await unauthorized(await jwks.call(await header()), description);
  });

  it("a token without exp is refused", async () => {
    const { privateKey } = await import("jose").then((j) => j.generateKeyPair("EdDSA"));
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA" })
      .setIssuer(ed.issuer)
      .setAudience(ed.audience)
      .sign(privateKey);
    await unauthorized(await jwks.call(bearer(token)));
  });

  it("PEM public key (RS256): valid accepted; expired, other key and an alg swap refused", async () => {
    expect((await pem.call(bearer(await rsa.token()))).statusCode).toBe(202);
    await unauthorized(await pem.call(bearer(await rsa.expiredToken())), /expired/);
    await unauthorized(await pem.call(bearer(await rsa.otherKeyToken())), /signature/);
    await unauthorized(await pem.call(bearer(await rsa.wrongAudienceToken())), /audience/);
    // HS256 "signed" with the public key as the secret: the classic confusion, refused.
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(rsa.issuer)
      .setAudience(rsa.audience)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(rsa.publicPem));
    await unauthorized(await pem.call(bearer(confused)));
  });

  it("HS256 shared secret: dispatch's minted token accepted; a wrong secret or audience refused", async () => {
    const good = hs256TokenProvider(SECRET, { audience: "agent" });
    expect((await hmac.call(bearer(await good()))).statusCode).toBe(202);
    const wrongSecret = hs256TokenProvider(`${SECRET}-not`, { audience: "agent" });
    await unauthorized(await hmac.call(bearer(await wrongSecret())), /signature/);
    const wrongAudience = hs256TokenProvider(SECRET, { audience: "someone-else" });
    await unauthorized(await hmac.call(bearer(await wrongAudience())), /audience/);
    await unauthorized(await hmac.call(bearer(await ed.token())), /EdDSA/);
  });

  it("the inbox is protected by the same check", async () => {
    const res = await jwks.running.app.inject({ method: "GET", url: "/v1/inbox" });
    await unauthorized(res);
    const ok = await jwks.running.app.inject({
      method: "GET",
      url: "/v1/inbox",
      headers: { authorization: bearer(await ed.token()) },
    });
    expect(ok.statusCode).toBe(200);
  });

  it("health and readiness need no token (the platform's probes)", async () => {
    expect((await jwks.running.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(
      200,
    );
    expect((await jwks.running.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
  });
});

describe("auth configuration", () => {
  let database: Database;
  beforeAll(async () => {
    database = await pgliteDatabase();
  }, 60_000);
  afterAll(async () => database?.close());

  it("required without any key: every request 401, and a start warning says what to set", async () => {
    const agent = await agentWith(database, {});
    try {
      const res = await agent.call(bearer(await hs256TokenProvider(SECRET)()));
      expect(res.statusCode).toBe(401);
      expect(res.headers["www-authenticate"]).toMatch(/no verification key configured/);
      const warning = agent.lines.find((l) => l.includes("no verification key is set"));
      expect(warning).toMatch(/AGENT_JWT_JWKS_URL/);
    } finally {
      await agent.running.stop();
    }
  });

  it("AGENT_AUTH=none: requests pass, and the start log warns loudly", async () => {
    const agent = await agentWith(database, { AGENT_AUTH: "none" });
    try {
      expect((await agent.call()).statusCode).toBe(202);
      expect(agent.lines.some((l) => /"level":"warn".*AGENT_AUTH=none.*ANYONE/.test(l))).toBe(true);
    } finally {
      await agent.running.stop();
    }
  });

  it("a JWKS that cannot be reached is 503 auth_unavailable (retry), not 401 (give up)", async () => {
    const ed = await jwtFixture();
    const url = ed.jwksUrl;
    const token = await ed.token();
    await ed.close(); // nobody answers at that address any more
    const agent = await agentWith(database, { AGENT_JWT_JWKS_URL: url });
    try {
      const res = await agent.call(bearer(token));
      expect(res.statusCode).toBe(503);
      expect(JSON.parse(res.body).error.code).toBe("auth_unavailable");
      expect(res.headers["retry-after"]).toBeDefined();
    } finally {
      await agent.running.stop();
    }
  });

  it("JWKS without an audience: a warning recommends AGENT_JWT_AUDIENCE", async () => {
    const ed = await jwtFixture();
    const agent = await agentWith(database, { AGENT_JWT_JWKS_URL: ed.jwksUrl });
    try {
      expect(agent.lines.some((l) => l.includes("AGENT_JWT_AUDIENCE is not set"))).toBe(true);
      expect((await agent.call(bearer(await ed.token()))).statusCode).toBe(202);
    } finally {
      await agent.running.stop();
      await ed.close();
    }
  });
});
