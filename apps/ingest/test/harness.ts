// Test helpers: a signed sender, an ingest app on given services, and a topic tap.
import { randomBytes, randomUUID } from "node:crypto";
import { type Bus, createMemoryBus, type IncomingMessage } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { ALL_TOPICS, OPS_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import type { IngestOptions } from "../src/app.ts";
import { ingestConfig } from "../src/config.ts";
import { startIngest } from "../src/start.ts";

export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

export { signed } from "../src/sign-request.ts";

/**
 * Everything published on the project's topics, as the bus delivers it — not the services'
 * heartbeats (OPS_TOPICS), which come every few seconds whatever the test does.
 */
export async function tap(bus: Bus, groupPrefix = "tap") {
  const messages: IncomingMessage[] = [];
  const subs = await Promise.all(
    ALL_TOPICS.filter((topic) => !OPS_TOPICS.includes(topic)).map((topic) =>
      bus.subscribe({
        groupId: `${groupPrefix}-${topic}-${randomUUID()}`,
        topic,
        format: "raw",
        decode: (v) => v,
        handler: async (_e, ctx) => void messages.push(ctx.message),
      }),
    ),
  );
  return { messages, close: () => Promise.all(subs.map((s) => s.close())) };
}

export type Services = { bus: Bus; db: DbHandle; close(): Promise<void> };

export async function embeddedServices(): Promise<Services> {
  const bus = createMemoryBus();
  await bus.ensureTopics(ALL_TOPICS.map((name) => ({ name })));
  const db = await createDb({ driver: "pglite" });
  await migrate(db);
  return {
    bus,
    db,
    close: async () => {
      await bus.close();
      await db.close();
    },
  };
}

/** Ingest started as `main` starts it, on the given bus and database, without a socket. */
export async function ingestApp(
  services: { bus: Bus; db: DbHandle },
  secrets: string[],
  options?: Partial<IngestOptions>,
) {
  const config = ingestConfig({ WEBHOOK_SECRET: secrets.join(",") });
  const running = await startIngest(
    { ...config, webhooks: { ...config.webhooks, ...options } },
    {
      bus: services.bus,
      db: services.db,
      listen: false,
      logger: createLogger({ service: "ingest-test", level: "silent" }),
    },
  );
  return {
    inject: running.app.inject.bind(running.app),
    ready: () => running.app.ready(),
    close: () => running.stop(),
  };
}
export type IngestTestApp = Awaited<ReturnType<typeof ingestApp>>;

export const now = () => new Date().toISOString();
