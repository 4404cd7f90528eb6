// Test helpers: an agent started as `main` starts it (on a given database), a request body, tokens.
import { randomUUID } from "node:crypto";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { createLogger } from "@pw/logger";
import { hs256TokenProvider } from "../src/client.ts";
import { agentConfig } from "../src/config.ts";
import type { DispatchRequest } from "../src/contract.ts";
import { type OutreachAgentDeps, startOutreachAgent } from "../src/start.ts";

export const SECRET = "test-secret-0123456789-abcdefghijklmnop";
export const silent = createLogger({ service: "outreach-agent-test", level: "silent" });

/** A database for one agent: embedded PGlite in memory, migrated. */
export async function pgliteDatabase(): Promise<{ db: DbHandle; close(): Promise<void> }> {
  const db = await createDb({ driver: "pglite" });
  await migrate(db);
  return { db, close: () => db.close() };
}

/** The agent on `db`, listening on a free loopback port, configured by `env`. */
export async function startAgent(
  db: DbHandle,
  env: Record<string, string | undefined>,
  deps: Omit<OutreachAgentDeps, "db" | "logger"> = {},
) {
  const config = agentConfig({
    PORT: "0",
    LOG_LEVEL: "silent",
    ALLOW_INSECURE_VENDOR_URLS: "1",
    ...env,
  });
  const running = await startOutreachAgent(config, { db, logger: silent, ...deps });
  const token = hs256TokenProvider(SECRET);
  return {
    running,
    url: running.url!,
    inject: running.app.inject.bind(running.app),
    /** POST /v1/dispatch with a valid HS256 token (when the agent has the secret); null: no key. */
    async dispatch(body: unknown, key: string | null = randomUUID(), authorization?: string) {
      return running.app.inject({
        method: "POST",
        url: "/v1/dispatch",
        headers: {
          authorization: authorization ?? `Bearer ${await token()}`,
          ...(key === null ? {} : { "idempotency-key": key }),
        },
        payload: body as object,
      });
    },
    stop: () => running.stop(),
  };
}
export type TestAgent = Awaited<ReturnType<typeof startAgent>>;

export const UNSUBSCRIBE = {
  url: "https://unsubscribe.example.com/unsubscribe/tok_123",
  mailto: "unsubscribe@example.com",
};
export const FOOTER = {
  postalAddress: "Acme Inc., 1 Market St, San Francisco, CA 94105",
  unsubscribeText: "Not interested? Unsubscribe with one click:",
};

export function emailRequest(overrides: Partial<DispatchRequest> = {}): DispatchRequest {
  return {
    leadId: `lead-${randomUUID().slice(0, 8)}`,
    channel: "email",
    to: "ada@example.org",
    subject: "Quick question, Ada",
    body: "Hi Ada,\n\nSaw your <team> grew & wondered whether pipeline reviews still hurt.\nOpen to a chat?\n\nBob",
    metadata: { requestId: "req-1", step: 0, unsubscribe: UNSUBSCRIBE, footer: FOOTER },
    ...overrides,
  };
}
