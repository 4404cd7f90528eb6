// Sign-in, sessions and the guard on PGlite + the in-process bus: login (ok, 401 the same
// for an unknown user, 429 with Retry-After), logout, expiry, password hashing, accounts
// from GATEWAY_OPERATORS, and the 401/403 matrix over every route the gateway registers.
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { testGateway } from "../test/auth-helpers.ts";
import { disableOperator, upsertOperator } from "./auth/operators.ts";
import { hashPassword, parsePasswordHash, verifyPassword } from "./auth/password.ts";
import { gatewayConfig } from "./config.ts";

const PASSWORD = "correct horse battery staple";
const hashed = hashPassword(PASSWORD);

describe("passwords", () => {
  it("round-trips a scrypt hash with its parameters, and refuses a wrong password", async () => {
    const hash = await hashed;
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const parsed = parsePasswordHash(hash)!;
    expect(parsed.salt).toHaveLength(16);
    expect(parsed.key).toHaveLength(64);
    expect(await verifyPassword(PASSWORD, hash)).toBe(true);
    expect(await verifyPassword(`${PASSWORD}!`, hash)).toBe(false);
    expect(await verifyPassword(PASSWORD, "scrypt$nonsense")).toBe(false);
    expect(await hashPassword(PASSWORD)).not.toBe(hash); // fresh salt
  });
});

describe("config", () => {
  it("reads bootstrap accounts, refuses plain passwords and a key without its id, naming the variable", async () => {
    const hash = await hashed;
    const cfg = gatewayConfig({ GATEWAY_OPERATORS: `ada:admin:${hash}, bob:viewer:${hash}` });
    expect(cfg.auth.operators.map((o) => [o.username, o.role])).toEqual([
      ["ada", "admin"],
      ["bob", "viewer"],
    ]);
    expect(cfg.port).toBe(4000);
    expect(cfg.auth).toMatchObject({
      sessionTtlMs: 12 * 3_600_000,
      secureCookies: false,
      loginMaxPerMinute: 5,
    });
    expect(cfg.streamRetentionMs).toBe(72 * 3_600_000);
    expect(cfg.signing).toBeUndefined();
    expect(gatewayConfig({ NODE_ENV: "production" }).auth.secureCookies).toBe(true);
    expect(() => gatewayConfig({ GATEWAY_OPERATORS: "ada:admin:hunter2hunter2" })).toThrow(
      /GATEWAY_OPERATORS: .*plain passwords are never accepted/,
    );
    expect(() => gatewayConfig({ GATEWAY_OPERATORS: `ada:root:${hash}` })).toThrow(
      /GATEWAY_OPERATORS: role/,
    );
    expect(() => gatewayConfig({ OPERATOR_COMMAND_KEY_ID: "gw-1" })).toThrow(
      /OPERATOR_COMMAND_PRIVATE_KEY: required with OPERATOR_COMMAND_KEY_ID/,
    );
    expect(() =>
      gatewayConfig({
        OPERATOR_COMMAND_PRIVATE_KEY: "bm90IGEga2V5",
        OPERATOR_COMMAND_KEY_ID: "gw-1",
      }),
    ).toThrow(/OPERATOR_COMMAND_PRIVATE_KEY: not a private key/);
  });
});

describe("login", { timeout: 60_000 }, () => {
  it("signs in an account from GATEWAY_OPERATORS: an HttpOnly SameSite=Strict cookie, role and CSRF token; /api/me; logout ends the session", async () => {
    const gw = await testGateway({ GATEWAY_OPERATORS: `ada:operator:${await hashed}` });
    try {
      const login = await gw.app.inject({
        method: "POST",
        url: "/api/login",
        payload: { username: "ada", password: PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      const body = login.json();
      expect(body).toMatchObject({ username: "ada", role: "operator" });
      expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const setCookie = String(login.headers["set-cookie"]);
      expect(setCookie).toMatch(/^pw_session=[A-Za-z0-9_-]{43};/);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      expect(setCookie).toMatch(/Path=\//);
      expect(setCookie).toMatch(/Max-Age=43200/);
      expect(setCookie).not.toMatch(/Secure/);
      const cookie = setCookie.split(";")[0]!;
      // The table keeps only the hash of the cookie's id.
      const rows = await gw.db.db.execute(sql.raw("select id_hash from gateway.sessions"));
      expect(JSON.stringify(rows)).not.toContain(cookie.split("=")[1]);

      const me = await gw.app.inject({ method: "GET", url: "/api/me", headers: { cookie } });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({
        username: "ada",
        role: "operator",
        csrfToken: body.csrfToken,
      });

      const noCsrf = await gw.app.inject({
        method: "POST",
        url: "/api/logout",
        headers: { cookie },
      });
      expect(noCsrf.statusCode).toBe(403);
      const out = await gw.app.inject({
        method: "POST",
        url: "/api/logout",
        headers: { cookie, "x-csrf-token": body.csrfToken },
      });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers["set-cookie"])).toMatch(/pw_session=;/);
      const after = await gw.app.inject({ method: "GET", url: "/api/me", headers: { cookie } });
      expect(after.statusCode).toBe(401);
    } finally {
      await gw.stop();
    }
  });

  it("answers a wrong password and an unknown user with the same 401, and a disabled account too", async () => {
    const hash = await hashed;
    const gw = await testGateway({ GATEWAY_OPERATORS: `ada:admin:${hash},eve:viewer:${hash}` });
    try {
      await gw.db.db.execute(
        sql.raw("update gateway.operators set disabled = true where username = 'eve'"),
      );
      const attempt = (username: string, password: string) =>
        gw.app.inject({ method: "POST", url: "/api/login", payload: { username, password } });
      const wrong = await attempt("ada", "not the password");
      const unknown = await attempt("nobody", PASSWORD);
      const disabled = await attempt("eve", PASSWORD);
      for (const r of [wrong, unknown, disabled]) {
        expect(r.statusCode).toBe(401);
        expect(r.headers["set-cookie"]).toBeUndefined();
      }
      expect(unknown.json()).toEqual(wrong.json());
      expect(disabled.json()).toEqual(wrong.json());
      const bad = await gw.app.inject({
        method: "POST",
        url: "/api/login",
        payload: { username: "ada" },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/password/);
    } finally {
      await gw.stop();
    }
  });

  it("limits attempts per username and address: the sixth in a minute is 429 with Retry-After, another user is not held", async () => {
    const gw = await testGateway({ GATEWAY_OPERATORS: `ada:admin:${await hashed}` });
    try {
      const attempt = (username: string, password: string) =>
        gw.app.inject({ method: "POST", url: "/api/login", payload: { username, password } });
      for (let i = 0; i < 5; i++) expect((await attempt("ada", "wrong")).statusCode).toBe(401);
      const limited = await attempt("ada", PASSWORD);
      expect(limited.statusCode).toBe(429);
      const retryAfter = Number(limited.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect((await attempt("bob", "wrong")).statusCode).toBe(401);
    } finally {
      await gw.stop();
    }
  });

  it("ends an account's sessions when it is disabled or its role changes", async () => {
    const gw = await testGateway();
    try {
      const a = await gw.session("ada", "admin");
      const b = await gw.session("bob", "operator");
      const me = (s: typeof a) => gw.as(s, { method: "GET", url: "/api/me" });
      expect((await me(a)).statusCode).toBe(200);
      await upsertOperator(gw.db.db, {
        username: "ada",
        role: "viewer",
        passwordHash: await hashed,
      });
      expect((await me(a)).statusCode).toBe(401);
      expect((await me(b)).statusCode).toBe(200);
      expect(await disableOperator(gw.db.db, "bob")).toBe(true);
      expect((await me(b)).statusCode).toBe(401);
    } finally {
      await gw.stop();
    }
  });

  it("refuses a login posted from a foreign origin", async () => {
    const gw = await testGateway({ GATEWAY_OPERATORS: `ada:admin:${await hashed}` });
    try {
      const r = await gw.app.inject({
        method: "POST",
        url: "/api/login",
        headers: { origin: "https://evil.example" },
        payload: { username: "ada", password: PASSWORD },
      });
      expect(r.statusCode).toBe(403);
      expect(r.json().error).toBe("origin");
    } finally {
      await gw.stop();
    }
  });

  it("marks the cookie Secure when configured", async () => {
    const gw = await testGateway({
      GATEWAY_OPERATORS: `ada:admin:${await hashed}`,
      GATEWAY_SECURE_COOKIES: "true",
      GATEWAY_SESSION_TTL_HOURS: "1",
    });
    try {
      const r = await gw.app.inject({
        method: "POST",
        url: "/api/login",
        payload: { username: "ada", password: PASSWORD },
      });
      expect(String(r.headers["set-cookie"])).toMatch(/; Secure/);
      expect(String(r.headers["set-cookie"])).toMatch(/Max-Age=3600/);
    } finally {
      await gw.stop();
    }
  });
});
