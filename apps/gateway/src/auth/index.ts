/**
 * `createAuth({ db, config, logger })`: sign-in, sessions and the `guard(role)` every
 * /api route but login sits behind — the read routes use the same guard.
 *
 * guard: no, unknown or expired session → 401; for a non-GET request, an `Origin` that is
 * not this host → 403 `origin`, an `x-csrf-token` other than the session's → 403 `csrf`;
 * a role below the route's → 403 `forbidden` (viewer < operator < admin).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import cookie from "@fastify/cookie";
import type { Db } from "@pw/db";
import type { Logger } from "@pw/logger";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from "fastify";
import { z } from "zod";
import type { AuthSettings, Role } from "../config.ts";
import { invalidBody, issuesOf } from "./errors.ts";
import { findOperator, upsertOperator } from "./operators.ts";
import { hashPassword, verifyPassword } from "./password.ts";
import { loginLimiter } from "./rate-limit.ts";
import {
  createSession,
  endSession,
  findSession,
  SESSION_COOKIE,
  type Session,
} from "./sessions.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in operator, set by `guard`. */
    operator?: Session;
  }
}

export type { Session } from "./sessions.ts";

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
export const CSRF_HEADER = "x-csrf-token";

export const LoginBody = z.object({
  username: z.string().min(1).max(200),
  password: z.string().min(1).max(1_000),
});

export type Auth = ReturnType<typeof createAuth>;

/** The signed-in operator of a request that passed `guard` (a route without one is a bug). */
export function operatorOf(req: FastifyRequest): Session {
  if (!req.operator) throw new Error(`${req.method} ${req.url} has no guard`);
  return req.operator;
}

/** An `Origin` header, when present, must name this host (the dashboard is same-origin). */
function foreignOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    const from = new URL(origin);
    // Read the Host header as a URL of the same scheme, so `host:80` equals `host`.
    return from.host !== new URL(`${from.protocol}//${req.headers.host ?? ""}`).host;
  } catch {
    return true; // `null` (a sandboxed frame, a redirect) or garbage
  }
}

function sameToken(a: string | undefined, b: string): boolean {
  if (typeof a !== "string") return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createAuth(o: {
  db: Db;
  config: { auth: AuthSettings };
  logger: Logger;
  now?: () => Date;
}) {
  const { db, logger } = o;
  const settings = o.config.auth;
  const now = o.now ?? (() => new Date());
  const limiter = loginLimiter(settings.loginMaxPerMinute);
  // Unknown users cost the same scrypt as known ones: timing tells nobody who exists.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => {
    dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    return dummyHash;
  };

  const deny = (reply: FastifyReply, code: 401 | 403, error: string, message: string) =>
    reply.code(code).header("cache-control", "no-store").send({ error, message });

  function guard(role: Role): preHandlerAsyncHookHandler {
    return async function guarded(req, reply) {
      const id = req.cookies?.[SESSION_COOKIE];
      const session = id ? await findSession(db, id, now()) : undefined;
      if (!session) return deny(reply, 401, "unauthenticated", "sign in first (POST /api/login)");
      if (!SAFE_METHODS.has(req.method)) {
        if (foreignOrigin(req))
          return deny(reply, 403, "origin", "cross-origin requests are refused");
        const sent = req.headers[CSRF_HEADER];
        if (!sameToken(Array.isArray(sent) ? sent[0] : sent, session.csrfToken))
          return deny(
            reply,
            403,
            "csrf",
            `send the session's csrfToken in the ${CSRF_HEADER} header`,
          );
      }
      if (RANK[session.role] < RANK[role])
        return deny(reply, 403, "forbidden", `needs the ${role} role (you are ${session.role})`);
      req.operator = session;
    };
  }

  async function bootstrap(): Promise<void> {
    for (const account of settings.operators) {
      const outcome = await upsertOperator(db, account);
      if (outcome !== "unchanged")
        logger.info(
          { username: account.username, role: account.role, outcome },
          "operator from GATEWAY_OPERATORS",
        );
    }
  }

  async function register(app: FastifyInstance): Promise<void> {
    await app.register(cookie);
    if (!app.hasRequestDecorator("operator")) app.decorateRequest("operator", undefined);

    app.post("/api/login", async (req, reply) => {
      if (foreignOrigin(req))
        return deny(reply, 403, "origin", "cross-origin requests are refused");
      const body = LoginBody.safeParse(req.body);
      if (!body.success) return invalidBody(reply, issuesOf(body.error));
      const { username, password } = body.data;
      const allowed = limiter.hit(`${username.toLowerCase()}\n${req.ip}`);
      if (!allowed.ok) {
        logger.warn({ username, ip: req.ip }, "login rate limited");
        return reply
          .code(429)
          .header("retry-after", String(allowed.retryAfterS))
          .send({
            error: "rate_limited",
            message: `too many attempts; retry in ${allowed.retryAfterS} s`,
          });
      }
      const account = await findOperator(db, username);
      const valid = await verifyPassword(password, account?.passwordHash ?? (await dummy()));
      if (!account || account.disabled || !valid) {
        logger.info({ username, ip: req.ip }, "login refused");
        return deny(reply, 401, "invalid_credentials", "wrong username or password");
      }
      const { id, session } = await createSession(db, account, settings.sessionTtlMs, now());
      logger.info({ username, role: account.role }, "signed in");
      return reply
        .header("cache-control", "no-store")
        .setCookie(SESSION_COOKIE, id, {
          httpOnly: true,
          sameSite: "strict",
          path: "/",
          secure: settings.secureCookies,
          maxAge: Math.floor(settings.sessionTtlMs / 1000),
        })
        .send({
          username: session.username,
          role: session.role,
          csrfToken: session.csrfToken,
          expiresAt: session.expiresAt.toISOString(),
        });
    });

    app.post("/api/logout", { preHandler: guard("viewer") }, async (req, reply) => {
      const id = req.cookies[SESSION_COOKIE];
      if (id) await endSession(db, id);
      return reply
        .clearCookie(SESSION_COOKIE, {
          path: "/",
          httpOnly: true,
          sameSite: "strict",
          secure: settings.secureCookies,
        })
        .code(204)
        .send();
    });

    app.get("/api/me", { preHandler: guard("viewer") }, async (req, reply) => {
      const s = operatorOf(req);
      return reply.header("cache-control", "no-store").send({
        username: s.username,
        role: s.role,
        csrfToken: s.csrfToken,
        expiresAt: s.expiresAt.toISOString(),
      });
    });
  }

  return { guard, register, bootstrap };
}
