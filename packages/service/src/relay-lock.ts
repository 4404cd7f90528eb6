/**
 * One drain at a time per outbox table, across every instance: what keeps each key's
 * events in order however many relays run. Two relays draining at once (SKIP LOCKED) let
 * the second publish a key's later rows while the first still holds its earlier ones.
 *
 * PostgreSQL: a session-level advisory lock, taken for one drain on a connection of the
 * relay's own (a transaction-level lock would need a transaction open across the publish).
 * If that connection dies the server drops the lock with it; the next drain opens a new
 * connection and takes the lock again. PGlite is one process: an in-process flag does.
 */
import { type DbHandle, type DbSession, queryRows } from "@pw/db";
import { sql } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";

export type RelayLock = {
  /** True when this relay may drain now; false when another one is draining. */
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  /** Releases and closes the connection. */
  close(): Promise<void>;
};

/** First key of the two-key advisory lock space: "the outbox relay" (migrate uses its own). */
const NAMESPACE = 727_274_002;

/** Tables being drained in this process, per database (PGlite). */
const draining = new WeakMap<object, Set<string>>();

export function tableName(table: PgTable): string {
  const { schema, name } = getTableConfig(table);
  return schema ? `${schema}.${name}` : name;
}

export function relayLock(handle: DbHandle, table: PgTable): RelayLock {
  const name = tableName(table);
  const open = handle.session?.bind(handle);
  if (handle.driver === "pglite" || !open) return inProcessLock(handle.db, name);
  let session: DbSession | undefined;
  let held = false;
  const drop = async () => {
    held = false;
    const s = session;
    session = undefined;
    await s?.close();
  };
  return {
    async tryAcquire() {
      if (session && !session.alive) await drop();
      try {
        session ??= await open();
        const [row] = await queryRows<{ locked: boolean }>(
          session.db,
          sql`select pg_try_advisory_lock(${NAMESPACE}, hashtext(${name})) as locked`,
        );
        held = row?.locked === true;
        return held;
      } catch (error) {
        await drop();
        throw error;
      }
    },
    async release() {
      if (!held) return;
      held = false;
      if (!session?.alive) return;
      try {
        await session.db.execute(sql`select pg_advisory_unlock(${NAMESPACE}, hashtext(${name}))`);
      } catch {
        // The connection is gone, and the lock with it.
        await drop();
      }
    },
    close: drop,
  };
}

function inProcessLock(db: object, name: string): RelayLock {
  let held = false;
  const names = () => {
    let set = draining.get(db);
    if (!set) {
      set = new Set();
      draining.set(db, set);
    }
    return set;
  };
  const release = async () => {
    if (held) names().delete(name);
    held = false;
  };
  return {
    async tryAcquire() {
      if (held) return true;
      if (names().has(name)) return false;
      names().add(name);
      held = true;
      return true;
    },
    release,
    close: release,
  };
}
