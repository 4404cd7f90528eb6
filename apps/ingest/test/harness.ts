// Test helpers: a signed sender, an ingest app on given services, and a topic tap.
import { randomBytes, randomUUID } from "node:crypto";
import { type Bus, createMemoryBus, type IncomingMessage } from "@pw/bus";
import { createDb, type DbHandle, migrate } from "@pw/db";
import { ALL_TOPICS } from "@pw/events";
import { createLogger } from "@pw/logger";
import { sql } from "drizzle-orm";
import { buildApp, type IngestOptions } from "../src/app.ts";
import { createMetrics } from "../src/metrics.ts";
import { createReceipts } from "../src/receipts.ts";
import { createVerifier } from "../src/verify.ts";

export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

export { signed } from "../src/sign-request.ts";

/** Everything published on the project's topics, as the bus delivers it. */
export async function tap(bus: Bus, groupPrefix = "tap") {
  const messages: IncomingMessage[] = [];
  const subs = await Promise.all(
    ALL_TOPICS.map((topic) =>
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

export function ingestApp(
  services: { bus: Bus; db: DbHandle },
  secrets: string[],
  options?: Partial<IngestOptions>,
) {
  return buildApp({
    bus: services.bus,
    receipts: createReceipts(services.db.db),
    verify: createVerifier(secrets),
    metrics: createMetrics(),
    logger: createLogger({ service: "ingest-test", level: "silent" }),
    dbHealthy: async () => {
      await services.db.db.execute(sql`select 1`);
      return true;
    },
    options,
  });
}

export const now = () => new Date().toISOString();
export const waitFor = async (cond: () => boolean, ms = 10_000, what = "condition") => {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
