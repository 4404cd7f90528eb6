/**
 * Database access for every service: clients (pg + PGlite), migrations, outbox, inbox.
 * Tables are not exported here: each service imports its own from `@pw/db/<owner>`
 * (ingest, scoring, experiments, dispatch, gateway), and biome.json refuses another's.
 */
export {
  createDb,
  type Db,
  type DbHandle,
  type DbOptions,
  type DbSession,
  type Executor,
  queryRows,
  type Timeouts,
  type Tx,
} from "./client.ts";
export { markProcessed, pruneInbox } from "./inbox.ts";
export {
  assertSchemaCurrent,
  committedMigrations,
  MIGRATIONS_FOLDER,
  migrate,
  pendingMigrations,
  SchemaNotCurrentError,
} from "./migrate.ts";
export {
  enqueue,
  type OutboxEvent,
  type OutboxStats,
  outboxStats,
  pruneOutbox,
} from "./outbox.ts";
export type { InboxTable, OutboxTable } from "./schema/messaging.ts";
