/**
 * Webhook dedupe, persisted in `ingest.webhook_receipts` so it survives a
 * restart. Lookups and inserts are micro-batched: requests arriving in the
 * same tick share one SELECT and one INSERT, so the database costs two round
 * trips per batch, not per request.
 *
 * Order per delivery: look up → publish (acks=all) → record. A receipt is
 * written only for what is on the broker, so a failed publish leaves no receipt
 * and the sender's retry goes through. Two replicas racing on the same id could
 * both publish; the event id is derived from the route and webhook id, so
 * consumers' inboxes drop the copy.
 *
 * Dedupe is per route: a webhook-id names a message of one sender, and the same
 * id on another route is another message. The table's key is one text column,
 * so a delivery's receipt key is `<route>:<webhook-id>` (`deliveryKey`); the
 * poller's keys (`lfpoll_…`) cannot take that form. One-click unsubscribes
 * (unsubscribe.ts) are kept under source `outcomes` (their topic) with keys
 * `unsubscribe:<hash>`, which no `outcomes:<webhook-id>` can be.
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
export type ReceiptSource = Receipt["source"];
export type WebhookRoute = Exclude<ReceiptSource, "lightfield_poller">;

export type Receipts = {
  /** The event id the delivery with receipt key `key` from `source` was published as, if it was. */
  seen(source: ReceiptSource, key: string): Promise<string | undefined>;
  /** `webhookId` is the receipt key. */
  record(receipt: Receipt): Promise<void>;
};

/** The receipt key of a webhook delivery: per route. */
export function deliveryKey(route: WebhookRoute, webhookId: string): string {
  return `${route}:${webhookId}`;
}

/**
 * The event id a webhook delivery was published as, if it was. Receipts written
 * before dedupe was per route are keyed by the bare webhook-id; one counts when it
 * came in on the same route, so a redelivery across the upgrade is still a
 * duplicate. (Not for an id that itself starts with `<route>:` — that bare key is
 * the new form of another id. Once senders' retry window has passed since the
 * upgrade, the bare lookup can go.)
 */
export async function seenDelivery(
  receipts: Receipts,
  route: WebhookRoute,
  webhookId: string,
): Promise<string | undefined> {
  const key = deliveryKey(route, webhookId);
  const [current, legacy] = await Promise.all([
    receipts.seen(route, key),
    webhookId.startsWith(`${route}:`) ? undefined : receipts.seen(route, webhookId),
  ]);
  return current ?? legacy;
}

export function createReceipts(db: Db): Receipts {
  const table = schema.webhookReceipts;
  type Found = { source: ReceiptSource; eventId: string };
  const lookup = batcher<string, Found | undefined>(async (keys) => {
    const rows = await db
      .select({ key: table.webhookId, source: table.source, eventId: table.eventId })
      .from(table)
      .where(inArray(table.webhookId, keys));
    return new Map(rows.map((r) => [r.key, { source: r.source, eventId: r.eventId }]));
  });
  const receipts = new Map<string, Omit<Receipt, "webhookId">>();
  const record = batcher<string, true>(async (ids) => {
    const values = ids.map((webhookId) => ({ webhookId, ...receipts.get(webhookId)! }));
    for (const id of ids) receipts.delete(id);
    await db.insert(table).values(values).onConflictDoNothing();
    return new Map(ids.map((id) => [id, true as const]));
  });
  return {
    async seen(source, key) {
      const found = await lookup(key);
      return found?.source === source ? found.eventId : undefined;
    },
    async record(r) {
      receipts.set(r.webhookId, { source: r.source, eventId: r.eventId });
      await record(r.webhookId);
    },
  };
}
