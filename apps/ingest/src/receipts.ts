/**
 * Webhook-id dedupe, persisted in `ingest.webhook_receipts` so it survives a
 * restart. Lookups and inserts are micro-batched: requests arriving in the
 * same tick share one SELECT and one INSERT, so the database costs two round
 * trips per batch, not per request.
 *
 * Order per delivery: look up → publish (acks=all) → record. A receipt is
 * written only for what is on the broker, so a failed publish leaves no receipt
 * and the sender's retry goes through. Two replicas racing on the same id could
 * both publish; the event id is derived from the webhook id, so consumers'
 * inboxes drop the copy.
 */
import type { Db } from "@pw/db";
import * as schema from "@pw/db/ingest";
import { inArray } from "drizzle-orm";

type Waiter<T> = { resolve: (v: T) => void; reject: (e: unknown) => void };

/** Collects calls made in the same tick and runs them as one batch. */
export function batcher<K, R>(run: (keys: K[]) => Promise<Map<K, R>>, maxBatch = 1000) {
  let pending = new Map<K, Waiter<R>[]>();
  let scheduled = false;
  async function flush() {
    scheduled = false;
    const batch = pending;
    pending = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += maxBatch) {
      const slice = keys.slice(i, i + maxBatch);
      try {
        const results = await run(slice);
        for (const k of slice) for (const w of batch.get(k)!) w.resolve(results.get(k) as R);
      } catch (error) {
        for (const k of slice) for (const w of batch.get(k)!) w.reject(error);
      }
    }
  }
  return (key: K) =>
    new Promise<R>((resolve, reject) => {
      const list = pending.get(key) ?? [];
      list.push({ resolve, reject });
      pending.set(key, list);
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
}

type Receipt = Pick<typeof schema.webhookReceipts.$inferInsert, "webhookId" | "source" | "eventId">;

export type Receipts = {
  /** True when this webhook id was already accepted. */
  seen(webhookId: string): Promise<boolean>;
  record(receipt: Receipt): Promise<void>;
};

export function createReceipts(db: Db): Receipts {
  const table = schema.webhookReceipts;
  const seen = batcher<string, boolean>(async (ids) => {
    const rows = await db
      .select({ id: table.webhookId })
      .from(table)
      .where(inArray(table.webhookId, ids));
    const found = new Set(rows.map((r) => r.id));
    return new Map(ids.map((id) => [id, found.has(id)]));
  });
  const receipts = new Map<string, Omit<Receipt, "webhookId">>();
  const record = batcher<string, true>(async (ids) => {
    const values = ids.map((webhookId) => ({ webhookId, ...receipts.get(webhookId)! }));
    for (const id of ids) receipts.delete(id);
    await db.insert(table).values(values).onConflictDoNothing();
    return new Map(ids.map((id) => [id, true as const]));
  });
  return {
    seen,
    async record(r) {
      receipts.set(r.webhookId, { source: r.source, eventId: r.eventId });
      await record(r.webhookId);
    },
  };
}
