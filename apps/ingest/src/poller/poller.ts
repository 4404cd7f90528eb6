/**
 * Lightfield poller for orgs without a workflow webhook: lists contacts,
 * accounts, opportunities and meetings updated since a persisted cursor, pages
 * through `limit`/`offset`, and emits the same normalised events as the
 * webhook. The cursor advances only after a page's events are on the broker;
 * re-reading the boundary is harmless because each (record, updatedAt) maps to
 * one dedupe key, persisted like webhook ids — no duplicates across restarts.
 */
import { type Bus, toMessage } from "@pw/bus";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/ingest";
import type { LightfieldRecord } from "@pw/events";
import type { Logger } from "@pw/logger";
import { eq } from "drizzle-orm";
import { normalizeLightfield, pollerEventIdFor } from "../normalize.ts";
import { createReceipts } from "../receipts.ts";
import { type LightfieldClient, MAX_PAGE } from "./lightfield-client.ts";

export const POLLED_TYPES = ["contacts", "accounts", "opportunities", "meetings"] as const;
const SINGULAR: Record<string, string> = {
  contacts: "contact",
  accounts: "account",
  opportunities: "opportunity",
  meetings: "meeting",
};

type Cursor = schema.PollerCursor;

export type PollerOptions = {
  client: LightfieldClient;
  db: Db;
  bus: Bus;
  logger?: Logger;
  intervalMs?: number;
  types?: readonly string[];
};

export function createPoller(options: PollerOptions) {
  const { client, db, bus, logger } = options;
  const receipts = createReceipts(db);
  const types = options.types ?? POLLED_TYPES;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function loadCursor(type: string): Promise<Cursor> {
    const [row] = await db
      .select()
      .from(schema.pollerCursors)
      .where(eq(schema.pollerCursors.name, `lightfield:${type}`));
    return row?.cursor ?? {};
  }

  async function saveCursor(type: string, cursor: Cursor) {
    await db
      .insert(schema.pollerCursors)
      .values({ name: `lightfield:${type}`, cursor })
      .onConflictDoUpdate({
        target: schema.pollerCursors.name,
        set: { cursor, updatedAt: new Date() },
      });
  }

  /** Emits one record unless this version of it was emitted before. Returns true if published. */
  async function emit(type: string, record: LightfieldRecord): Promise<boolean> {
    const version = record.updatedAt ?? record.createdAt ?? "unknown";
    const dedupeKey = `lfpoll_${type}_${record.id}_${version}`;
    if (await receipts.seen("lightfield_poller", dedupeKey)) return false;
    const operation =
      record.createdAt && record.createdAt === record.updatedAt ? "created" : "updated";
    const normalized = normalizeLightfield(
      {
        type: `${SINGULAR[type]}.${operation}`,
        occurredAt: version === "unknown" ? new Date().toISOString() : version,
        object: record,
      },
      pollerEventIdFor(dedupeKey),
      "lightfield_poller",
    );
    await bus.publish(normalized.topic, [toMessage(normalized.event)]);
    await receipts.record({
      webhookId: dedupeKey,
      source: "lightfield_poller",
      eventId: normalized.event.id,
    });
    return true;
  }

  /** One pass over one object type; returns how many events it published. */
  async function pollType(type: string): Promise<number> {
    const cursor = await loadCursor(type);
    let offset = 0;
    let published = 0;
    let maxSeen = cursor.updatedSince;
    for (;;) {
      const page = await client.list(type, {
        limit: MAX_PAGE,
        offset,
        updatedSince: cursor.updatedSince,
      });
      for (const record of page.records) {
        try {
          if (await emit(type, record)) published++;
        } catch (error) {
          // A record we cannot map (e.g. a meeting with no contact) is logged, not retried forever.
          if ((error as Error).name === "NormalizeError") {
            logger?.warn(
              { type, id: record.id, err: error },
              "skipping a record that is not about a lead",
            );
            continue;
          }
          throw error;
        }
        if (record.updatedAt && (!maxSeen || record.updatedAt > maxSeen))
          maxSeen = record.updatedAt;
      }
      if (maxSeen && maxSeen !== cursor.updatedSince)
        await saveCursor(type, { updatedSince: maxSeen });
      if (!page.hasMore || page.records.length === 0) break;
      offset += page.records.length;
    }
    return published;
  }

  async function pollOnce(): Promise<number> {
    let total = 0;
    for (const type of types) total += await pollType(type);
    return total;
  }

  async function run() {
    let failures = 0;
    while (running) {
      try {
        const n = await pollOnce();
        failures = 0;
        if (n > 0) logger?.info({ published: n }, "lightfield poll");
      } catch (error) {
        failures++;
        logger?.error({ err: error, failures }, "lightfield poll failed; will retry");
      }
      const delay =
        failures > 0
          ? Math.min(300_000, (options.intervalMs ?? 30_000) * 2 ** Math.min(failures, 4))
          : (options.intervalMs ?? 30_000);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  return {
    pollOnce,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
