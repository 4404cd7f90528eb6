/** Database access for every service: schemas, clients (pg + PGlite), migrations, outbox, inbox. */
export {
  createDb,
  type Db,
  type DbHandle,
  type DbOptions,
  type Executor,
  queryRows,
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
  createOutboxRelay,
  enqueue,
  type OutboxEvent,
  type OutboxRelay,
  type OutboxRelayOptions,
  pruneOutbox,
  type RelayRecord,
} from "./outbox.ts";
export * as schema from "./schema/index.ts";
export type { InboxTable, OutboxTable } from "./schema/messaging.ts";
