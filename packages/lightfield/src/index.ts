/**
 * @pw/lightfield — the one Lightfield CRM client of the project (API 2026-03-01): reads
 * for ingest's poller and webhooks, note and task creates for dispatch's write-back,
 * paced per rate-limit category and retried to the documented contract. The contract
 * server for tests is `@pw/lightfield/test-server`.
 */
export {
  type CallOptions,
  type Created,
  createLightfieldClient,
  LIGHTFIELD_VERSION,
  type LightfieldClient,
  type LightfieldClientOptions,
  type LightfieldRequestInfo,
  MAX_PAGE,
  type Operation,
  type WriteOptions,
} from "./client.ts";
export {
  IDEMPOTENCY_CONFLICT,
  isTransientStatus,
  LightfieldApiError,
  LightfieldNetworkError,
  LightfieldRequestError,
} from "./errors.ts";
export { CATEGORIES, type Category, MAX_RATE } from "./pacer.ts";
export {
  ApiRecord,
  type FieldDefinitions,
  ListResponse,
  relatedIds,
} from "./records.ts";
export {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  type NoteInput,
  noteBody,
  TASK_STATUSES,
  type TaskInput,
  type TaskStatus,
  taskBody,
} from "./writes.ts";
