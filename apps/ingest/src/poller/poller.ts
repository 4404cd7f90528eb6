/**
 * Lightfield poller for orgs without a workflow webhook. Lightfield lists can be
 * neither sorted nor filtered by `updatedAt`, so each scan pages through every
 * record of each type (limit 25, offset, until a short page) and emits only the
 * records that changed against `ingest.lightfield_records` (newer `updatedAt`, or a
 * new content hash when `updatedAt` is null or unchanged; an older copy from a lagging
 * index is ignored). After each page: publish its changes (acks=all), then in one
 * transaction record what was emitted and the next offset, so a restart resumes
 * mid-scan. A crash between the two re-publishes the same event ids, which consumers'
 * inboxes drop.
 */
import { createHash } from "node:crypto";
import { type Bus, toMessage } from "@pw/bus";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/ingest";
import type { LightfieldRecord } from "@pw/events";
import { type ApiRecord, type LightfieldClient, MAX_PAGE, MAX_RATE } from "@pw/lightfield";
import type { Logger } from "@pw/logger";
import { and, eq, inArray, sql } from "drizzle-orm";
import { createSelectLabelCache, type SelectLabelCache } from "../lightfield/select-labels.ts";
import { normalizeLightfield, pollerEventIdFor } from "../normalize.ts";
import { objectNameOf } from "../wire.ts";

export const POLLED_TYPES = ["contacts", "accounts", "opportunities", "meetings"] as const;

export type PollerOptions = {
  /** Select labels shared with the webhook route (one definitions cache per process). */
  labels?: SelectLabelCache;
  client: LightfieldClient;
  db: Db;
  bus: Bus;
  logger?: Logger;
  /** Pause between the end of one full scan and the next. */
  intervalMs?: number;
  types?: readonly string[];
  /** For tests: stop after this many pages (simulates a kill mid-scan). */
  maxPages?: number;
};

export type ScanResult = { published: number; records: number; pages: number; complete: boolean };

/** Canonical JSON (sorted keys) of what the record says, for change detection. */
export function contentHash(record: Pick<ApiRecord, "fields" | "relationships">): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === "object"
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash("sha256")
    .update(JSON.stringify(canon({ f: record.fields, r: record.relationships })))
    .digest("hex");
}

type Seen = { updatedAt: Date | null; contentHash: string };

/** Whether `record` is news against what we last emitted of it. */
export function isChange(record: ApiRecord, hash: string, seen: Seen | undefined): boolean {
  if (!seen) return true;
  const incoming = record.updatedAt ? Date.parse(record.updatedAt) : Number.NaN;
  const held = seen.updatedAt?.getTime() ?? Number.NaN;
  if (Number.isFinite(incoming) && Number.isFinite(held)) {
    if (incoming > held) return true;
    if (incoming < held) return false; // a lagging index's older copy
  }
  return hash !== seen.contentHash;
}

/** Seconds a full scan of `n` records takes at 25 per page and `rate` requests/s. */
export const scanSeconds = (n: number, rate = MAX_RATE) => (Math.floor(n / MAX_PAGE) + 1) / rate;

export function createPoller(options: PollerOptions) {
  const { client, db, bus, logger } = options;
  const types = options.types ?? POLLED_TYPES;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let pagesLeft = options.maxPages ?? Number.POSITIVE_INFINITY;

  const labelCache = options.labels ?? createSelectLabelCache(client);
  const { labels } = labelCache;
  const ensureLabels = (type: string, records: ApiRecord[]) => labelCache.ensure(type, records);

  async function loadCursor(type: string): Promise<schema.PollerCursor> {
    const [row] = await db
      .select()
      .from(schema.pollerCursors)
      .where(eq(schema.pollerCursors.name, `lightfield:${type}`));
    return row?.cursor ?? {};
  }

  function toEvent(type: string, record: ApiRecord, hash: string) {
    const version = record.updatedAt ?? "null";
    const dedupeKey = `lfpoll_${type}_${record.id}_${version}_${hash.slice(0, 16)}`;
    const operation =
      record.createdAt && record.createdAt === record.updatedAt ? "created" : "updated";
    return normalizeLightfield(
      {
        type: `${objectNameOf(type) ?? type}.${operation}`,
        occurredAt: record.updatedAt ?? record.createdAt ?? new Date().toISOString(),
        // The documented record shape; @pw/events' LightfieldRecord is aligned to it in
        // the same issue (relationships' `values`, nullable `updatedAt`).
        object: record as unknown as LightfieldRecord,
      },
      pollerEventIdFor(dedupeKey),
      "lightfield_poller",
      labels,
    );
  }

  /** One page: emit what changed, then persist the rows and the cursor (`next`) together. */
  async function processPage(type: string, records: ApiRecord[], next: schema.PollerCursor) {
    const ids = records.map((r) => r.id);
    const seenRows = ids.length
      ? await db
          .select()
          .from(schema.lightfieldRecords)
          .where(
            and(
              eq(schema.lightfieldRecords.objectType, type),
              inArray(schema.lightfieldRecords.recordId, ids),
            ),
          )
      : [];
    const seen = new Map(seenRows.map((r) => [r.recordId, r]));
    const changed = records
      .map((r) => ({ r, hash: contentHash(r) }))
      .filter(({ r, hash }) => isChange(r, hash, seen.get(r.id)));
    if (changed.length)
      await ensureLabels(
        type,
        changed.map((c) => c.r),
      );
    const messages = [];
    const emitted: (typeof schema.lightfieldRecords.$inferInsert)[] = [];
    for (const { r, hash } of changed) {
      try {
        const n = toEvent(type, r, hash);
        messages.push({ topic: n.topic, message: toMessage(n.event) });
      } catch (error) {
        // A record we cannot map (e.g. a meeting with no contact) is recorded, not retried forever.
        if ((error as Error).name !== "NormalizeError") throw error;
        logger?.warn({ type, id: r.id, err: error }, "skipping a record that is not about a lead");
      }
      emitted.push({
        objectType: type,
        recordId: r.id,
        updatedAt: r.updatedAt ? new Date(r.updatedAt) : null,
        contentHash: hash,
      });
    }
    const byTopic = new Map<string, ReturnType<typeof toMessage>[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.message]);
    for (const [topic, list] of byTopic) await bus.publish(topic, list);
    await db.transaction(async (tx) => {
      if (emitted.length)
        await tx
          .insert(schema.lightfieldRecords)
          .values(emitted)
          .onConflictDoUpdate({
            target: [schema.lightfieldRecords.objectType, schema.lightfieldRecords.recordId],
            set: {
              updatedAt: sql`excluded.updated_at`,
              contentHash: sql`excluded.content_hash`,
              seenAt: sql`now()`,
            },
          });
      await tx
        .insert(schema.pollerCursors)
        .values({ name: `lightfield:${type}`, cursor: next })
        .onConflictDoUpdate({
          target: schema.pollerCursors.name,
          set: { cursor: next, updatedAt: new Date() },
        });
    });
    return messages.length;
  }

  /** Scans one type from where the last scan stopped (or from 0). */
  async function scanType(type: string): Promise<ScanResult> {
    const stored = await loadCursor(type);
    const resuming = typeof stored.offset === "number";
    const cursor: schema.PollerCursor = {
      scanStartedAt:
        resuming && stored.scanStartedAt ? stored.scanStartedAt : new Date().toISOString(),
      ...(stored.lastScanAt ? { lastScanAt: stored.lastScanAt } : {}),
    };
    let offset = resuming ? stored.offset! : 0;
    if (resuming) logger?.info({ type, offset }, "resuming a lightfield scan");
    const started = Date.now();
    const result: ScanResult = { published: 0, records: 0, pages: 0, complete: false };
    let total: number | undefined;
    while (pagesLeft > 0) {
      pagesLeft--;
      const page = await client.list(type, { limit: MAX_PAGE, offset });
      total = page.totalCount ?? total;
      result.pages++;
      result.records += page.data.length;
      const done = page.data.length < MAX_PAGE;
      offset += page.data.length;
      // The last page saves a cursor without an offset, so the next scan starts from 0.
      const next = done ? { lastScanAt: cursor.scanStartedAt } : { ...cursor, offset };
      result.published += await processPage(type, page.data, next);
      if (done) {
        result.complete = true;
        const n = total ?? offset;
        logger?.info(
          {
            type,
            records: n,
            pages: result.pages,
            published: result.published,
            tookMs: Date.now() - started,
            expectedMs: Math.round(scanSeconds(n) * 1000),
          },
          `lightfield full scan of ${n} ${type}: ${result.pages} pages; at 25 records/page and 25 req/s a full scan takes ≥ ${scanSeconds(n).toFixed(1)} s`,
        );
        break;
      }
    }
    return result;
  }

  /** One full scan of every type (or as far as `maxPages` allows). */
  async function pollOnce(): Promise<ScanResult> {
    const total: ScanResult = { published: 0, records: 0, pages: 0, complete: true };
    for (const type of types) {
      const r = await scanType(type);
      total.published += r.published;
      total.records += r.records;
      total.pages += r.pages;
      total.complete &&= r.complete;
    }
    return total;
  }

  async function run() {
    let failures = 0;
    while (running) {
      try {
        const r = await pollOnce();
        failures = 0;
        if (r.published > 0) logger?.info({ ...r }, "lightfield poll");
      } catch (error) {
        failures++;
        logger?.error({ err: error, failures }, "lightfield poll failed; will resume");
      }
      if (!running) break;
      const base = options.intervalMs ?? 30_000;
      const delay = failures > 0 ? Math.min(300_000, base * 2 ** Math.min(failures, 4)) : base;
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
      pagesLeft = 0;
      wake?.();
      await loop;
    },
  };
}
