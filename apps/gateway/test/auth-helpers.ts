/**
 * The gateway on PGlite and the in-process bus for unit tests: a signing key pair, a tap
 * on `operator.commands.v1`, sessions made directly in the table (no scrypt per test),
 * and `inject` with the session cookie and CSRF header.
 */
import { randomBytes } from "node:crypto";
import { type Bus, createMemoryBus, subscribeTopic } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { commandKeyPair, type OperatorCommand, Topics } from "@pw/events";
import { createLogger } from "@pw/logger";
import { openDatabase } from "@pw/service";
import type { InjectOptions } from "fastify";
import { createSession, SESSION_COOKIE } from "../src/auth/sessions.ts";
import type { Role } from "../src/config.ts";
import { gatewayConfig } from "../src/config.ts";
import { startGateway } from "../src/start.ts";

/** A well-formed hash nobody can sign in with (sessions here are made directly). */
export const UNUSABLE_HASH = `scrypt$32768$8$1$${randomBytes(16).toString("base64")}$${randomBytes(64).toString("base64")}`;

export type TestSession = { cookie: string; csrfToken: string; username: string; role: Role };

export async function testGateway(
  env: Record<string, string> = {},
  options: { signing?: boolean } = {},
) {
  const keys = commandKeyPair("gw-test");
  const signingEnv =
    options.signing === false
      ? {}
      : {
          OPERATOR_COMMAND_PRIVATE_KEY: keys.privateKey
            .export({ format: "pem", type: "pkcs8" })
            .toString(),
          OPERATOR_COMMAND_KEY_ID: keys.keyId,
        };
  const bus: Bus = createMemoryBus();
  const db: DbHandle = await openDatabase({ driver: "pglite" });
  const logger = createLogger({
    service: "gateway-test",
    level: (process.env.TEST_LOG_LEVEL ?? "silent") as "silent",
  });
  const running = await startGateway(gatewayConfig({ PORT: "0", ...signingEnv, ...env }), {
    bus,
    db,
    logger,
    listen: false,
  });
  const published: OperatorCommand[] = [];
  await subscribeTopic(bus, {
    groupId: "tap",
    topic: Topics.operatorCommands,
    fromBeginning: true,
    handler: async (event) => void published.push(event),
  });

  /** An account and a session made directly (expiresAt in the past: an expired one). */
  async function session(
    username: string,
    role: Role,
    opts: { expired?: boolean } = {},
  ): Promise<TestSession> {
    await db.db
      .insert(schema.operators)
      .values({ username, role, passwordHash: UNUSABLE_HASH })
      .onConflictDoNothing();
    const ttl = opts.expired ? -60_000 : 3_600_000;
    const { id, session: s } = await createSession(db.db, { username, role }, ttl);
    return { cookie: `${SESSION_COOKIE}=${id}`, csrfToken: s.csrfToken, username, role };
  }

  /** A request as the dashboard sends it: cookie, CSRF header on non-GET, same origin. */
  function as(s: TestSession | undefined, req: InjectOptions & { csrf?: string | false }) {
    const { csrf, ...rest } = req;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
    if (s) headers.cookie = s.cookie;
    const token = csrf === undefined ? s?.csrfToken : csrf;
    if (token && rest.method && rest.method !== "GET") headers["x-csrf-token"] = token;
    return running.app.inject({ ...rest, headers });
  }

  return {
    running,
    app: running.app,
    db,
    bus,
    keys,
    published,
    session,
    as,
    async stop() {
      await running.stop();
      await bus.close();
      await db.close();
    },
  };
}
export type TestGateway = Awaited<ReturnType<typeof testGateway>>;
