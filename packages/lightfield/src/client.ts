/**
 * Lightfield REST client (undici): the poller's reads (lists, one record, field
 * definitions) and the write-back's creates (notes, tasks). Contract: /work/shared/
 * LIGHTFIELD.md, choices in docs/integration-notes.md and this package's README.
 * Every request carries the bearer key and `Lightfield-Version`; a body goes as JSON, a
 * write with its Idempotency-Key. Each attempt first takes a slot from the pacer of its
 * category (./pacer.ts); 429, 5xx, timeouts and connection errors are retried a bounded
 * number of times (Retry-After, else jittered backoff; @pw/resilience), then thrown with
 * `transient: true` (./errors.ts).
 */
import {
  type Backoff,
  DEFAULT_MAX_RETRY_AFTER_MS,
  retryAfterMs,
  retrying,
  TimeoutError,
  withTimeout,
} from "@pw/resilience";
import { request } from "undici";
import {
  IDEMPOTENCY_CONFLICT,
  LightfieldApiError,
  LightfieldNetworkError,
  parseErrorBody,
} from "./errors.ts";
import { type Category, createPacer, type Headers } from "./pacer.ts";
import {
  ApiRecord,
  CreatedRecord,
  DefinitionsResponse,
  type FieldDefinitions,
  ListResponse,
} from "./records.ts";
import {
  checkIdempotencyKey,
  type NoteInput,
  noteBody,
  type TaskInput,
  taskBody,
  type WriteBody,
} from "./writes.ts";

export const LIGHTFIELD_VERSION = "2026-03-01";
export const MAX_PAGE = 25;
/** Between retries without a Retry-After: full jitter under 1 s, 2 s, 4 s, … at most 30 s. */
const BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000 };
/**
 * Calls in total per request. Reads keep the poller's five retries (it has nothing better
 * to do than wait); a write gives up after three and leaves the rest to its caller's queue.
 */
const ATTEMPTS: Record<Category, number> = { read: 6, search: 6, write: 3 };

export type Operation = "list" | "get" | "definitions" | "createNote" | "createTask";

/** One attempt, as `onRequest` sees it (after its answer, or its failure to get one). */
export type LightfieldRequestInfo = {
  operation: Operation;
  category: Category;
  /** The HTTP status; absent when no answer came (`code` is then `timeout` or `network`). */
  status?: number;
  /** A failure's error code (`idempotency_conflict`, `version_header`, …, `timeout`, `network`). */
  code?: string;
  /** 1 for the first attempt of a call. */
  attempt: number;
  /** Waited before this attempt was sent: the retry delay, then the pacing. */
  waitedMs: number;
  durationMs: number;
  /** The server says it replayed the first answer to this Idempotency-Key. */
  replayed?: boolean;
};

export type LightfieldClientOptions = {
  baseUrl: string;
  apiKey: string;
  /** Requests per second per category at most (default and ceiling 25); the headers may lower it. */
  ratePerSecond?: number;
  /**
   * Attempts per call, the first included: one number for every category, or per category.
   * Default: write 3, read and search 6.
   */
  attempts?: number | Partial<Record<Category, number>>;
  /** Delays between retries when the server gives no Retry-After. */
  backoff?: Backoff;
  /** A longer Retry-After (or a Reset this far off) is cut to this. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Deadline of one attempt, answer and body. Default 15 s. */
  timeoutMs?: number;
  /** Sent instead of the supported version (tests of the version check). */
  version?: string;
  /** Called after every attempt, e.g. to count requests, statuses and waits in metrics. */
  onRequest?: (info: LightfieldRequestInfo) => void;
};

export type CallOptions = { signal?: AbortSignal };
export type WriteOptions = CallOptions & {
  /** ≤ 255 printable ASCII characters; a repeat within 24 h gets the first answer back. */
  idempotencyKey: string;
};
/** The created record's id; `replayed` when the server says it replayed an earlier answer. */
export type Created = { id: string; replayed?: boolean };

export type LightfieldClient = {
  list(
    objectType: string,
    params: { limit: number; offset: number },
    options?: CallOptions,
  ): Promise<ListResponse>;
  /** The latest state of one record (e.g. a contact and its `$account`: see `relatedIds`). */
  get(objectType: string, id: string, options?: CallOptions): Promise<ApiRecord>;
  definitions(objectType: string, options?: CallOptions): Promise<FieldDefinitions>;
  /** `POST /v1/notes`: `$title`, `$content` (markdown), `$account`, `$opportunity`. */
  createNote(input: NoteInput, options: WriteOptions): Promise<Created>;
  /** `POST /v1/tasks`: `$title`, `$status` (default TODO), `$assignedTo`, … */
  createTask(input: TaskInput, options: WriteOptions): Promise<Created>;
};

type Call = {
  operation: Operation;
  category: Category;
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string>;
  body?: WriteBody;
  idempotencyKey?: string;
  signal?: AbortSignal;
};
type Answer = { status: number; headers: Headers; text: string };

export function createLightfieldClient(options: LightfieldClientOptions): LightfieldClient {
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const pacer = createPacer({ ratePerSecond: options.ratePerSecond, maxHoldMs: maxRetryAfterMs });
  const attemptsOf = (category: Category) =>
    typeof options.attempts === "number"
      ? options.attempts
      : (options.attempts?.[category] ?? ATTEMPTS[category]);
  const report = (info: LightfieldRequestInfo) => {
    try {
      options.onRequest?.(info);
    } catch {
      // A metrics hook must not fail the call.
    }
  };

  async function exchange(call: Call): Promise<Answer> {
    const url = new URL(call.path, options.baseUrl);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      authorization: `Bearer ${options.apiKey}`,
      "lightfield-version": options.version ?? LIGHTFIELD_VERSION,
      accept: "application/json",
    };
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (call.idempotencyKey !== undefined) headers["idempotency-key"] = call.idempotencyKey;

    let retryDelayMs = 0;
    let attempts = 0;
    try {
      return await retrying(
        async ({ attempt, signal }) => {
          attempts = attempt;
          const waitedMs = retryDelayMs + (await pacer.acquire(call.category, signal));
          retryDelayMs = 0;
          const started = Date.now();
          const info = { operation: call.operation, category: call.category, attempt, waitedMs };
          let answer: Answer;
          try {
            answer = await withTimeout(
              async (deadline) => {
                const res = await request(url, {
                  method: call.method,
                  headers,
                  body: payload,
                  signal: deadline,
                });
                return {
                  status: res.statusCode,
                  headers: res.headers,
                  text: await res.body.text(),
                };
              },
              timeoutMs,
              signal,
            );
          } catch (error) {
            // The caller's abort, or a request undici refuses to send: not the network's fault.
            if (signal.aborted || (error as { code?: string }).code === "UND_ERR_INVALID_ARG")
              throw error;
            const failure = new LightfieldNetworkError(
              error instanceof TimeoutError ? "timeout" : "network",
              error,
            );
            report({ ...info, code: failure.code, durationMs: Date.now() - started });
            throw failure;
          }
          const durationMs = Date.now() - started;
          const asked =
            answer.status === 429 || answer.status === 503
              ? retryAfterMs(answer.headers["retry-after"], Date.now(), maxRetryAfterMs)
              : undefined;
          pacer.observe(call.category, answer.headers, answer.status === 429 ? asked : undefined);
          if (answer.status >= 200 && answer.status < 300) {
            const replayed = isReplay(answer.headers);
            report({
              ...info,
              status: answer.status,
              durationMs,
              ...(replayed ? { replayed } : {}),
            });
            return answer;
          }
          const error = new LightfieldApiError(answer.status, parseErrorBody(answer.text), asked);
          report({ ...info, status: answer.status, code: error.code, durationMs });
          throw error;
        },
        {
          attempts: attemptsOf(call.category),
          backoff: options.backoff ?? BACKOFF,
          maxRetryAfterMs,
          // A concurrent duplicate is still running: its caller comes back later for the replay.
          retryable: (e) =>
            (e as { transient?: unknown }).transient === true &&
            (e as { code?: unknown }).code !== IDEMPOTENCY_CONFLICT,
          onRetry: (event) => {
            retryDelayMs = event.delayMs;
          },
          ...(call.signal ? { signal: call.signal } : {}),
        },
      );
    } catch (error) {
      if (error instanceof LightfieldApiError || error instanceof LightfieldNetworkError)
        error.attempts = attempts;
      throw error;
    }
  }

  async function read(call: Omit<Call, "method">): Promise<unknown> {
    return JSON.parse((await exchange({ ...call, method: "GET" })).text);
  }

  async function create(
    operation: Operation,
    type: string,
    body: WriteBody,
    write: WriteOptions,
  ): Promise<Created> {
    checkIdempotencyKey(write.idempotencyKey);
    const answer = await exchange({
      operation,
      category: "write",
      method: "POST",
      path: `/v1/${type}`,
      body,
      idempotencyKey: write.idempotencyKey,
      signal: write.signal,
    });
    const { id } = CreatedRecord.parse(JSON.parse(answer.text));
    return isReplay(answer.headers) ? { id, replayed: true } : { id };
  }

  const seg = encodeURIComponent;
  return {
    async list(objectType, params, call = {}) {
      const limit = Math.max(1, Math.min(MAX_PAGE, params.limit));
      const body = await read({
        operation: "list",
        category: "search",
        path: `/v1/${seg(objectType)}`,
        query: { limit: String(limit), offset: String(params.offset) },
        signal: call.signal,
      });
      return ListResponse.parse(body);
    },
    async get(objectType, id, call = {}) {
      const body = await read({
        operation: "get",
        category: "read",
        path: `/v1/${seg(objectType)}/${seg(id)}`,
        signal: call.signal,
      });
      return ApiRecord.parse(body);
    },
    async definitions(objectType, call = {}) {
      const body = await read({
        operation: "definitions",
        category: "read",
        path: `/v1/${seg(objectType)}/definitions`,
        signal: call.signal,
      });
      return DefinitionsResponse.parse(body);
    },
    createNote: (input, write) => create("createNote", "notes", noteBody(input), write),
    createTask: (input, write) => create("createTask", "tasks", taskBody(input), write),
  };
}

/**
 * Lightfield's docs name no header for a replayed answer; our contract server sends
 * `Idempotent-Replayed: true` (the common spelling), so a replay is reported when a server
 * says so and is otherwise indistinguishable (same id).
 */
function isReplay(headers: Headers): boolean {
  const v = headers["idempotent-replayed"] ?? headers["idempotency-replayed"];
  return (Array.isArray(v) ? v[0] : v) === "true";
}
