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
import { createVerifier, signWebhook } from "../src/verify.ts";

export const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

export type SignedRequestOptions = {
  secret: string;
  id?: string;
  timestamp?: number;
  headers?: Record<string, string | undefined>;
  contentType?: string;
};

/** What a Standard Webhooks sender puts on the wire. */
export function signed(path: string, body: string | Buffer, o: SignedRequestOptions) {
  const id = o.id ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const text = typeof body === "string" ? body : body.toString();
  const headers: Record<string, string> = {
    "content-type": o.contentType ?? "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(o.secret, id, timestamp, text),
  };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { method: "POST" as const, url: path, payload: body, headers, id };
}

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
