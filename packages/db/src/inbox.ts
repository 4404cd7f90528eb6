/**
 * Inbox: which events a consumer has already processed. The pattern, inside one
 * transaction:
 *
 *   await db.transaction(async (tx) => {
 *     if (!(await markProcessed(tx, inbox, "scoring", event.id))) return; // seen: skip
 *     …change state…
 *     await enqueue(tx, outbox, [resultingEvent]);
 *   });
 *
 * The mark commits with the state change, so a redelivered event changes nothing
 * twice, and a crash before commit leaves no mark (the redelivery does the work).
 */
import { lt } from "drizzle-orm";
import type { Executor } from "./client.ts";
import type { InboxTable } from "./schema/messaging.ts";

/** True the first time (consumer, eventId) is seen; false on a duplicate. */
export async function markProcessed(
  tx: Executor,
  table: InboxTable,
  consumer: string,
  eventId: string,
): Promise<boolean> {
  const inserted = await tx
    .insert(table)
    .values({ consumer, eventId })
    .onConflictDoNothing()
    .returning({ eventId: table.eventId });
  return inserted.length === 1;
}

/** Housekeeping: forget ids older than the broker's retention (they cannot come back). */
export async function pruneInbox(db: Executor, table: InboxTable, before: Date): Promise<number> {
  const deleted = await db
    .delete(table)
    .where(lt(table.processedAt, before))
    .returning({ eventId: table.eventId });
  return deleted.length;
}
