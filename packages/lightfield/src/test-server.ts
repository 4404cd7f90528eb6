// A local HTTP server speaking Lightfield's documented API (version 2026-03-01,
// /work/shared/LIGHTFIELD.md), for the tests of every service that talks to Lightfield:
// bearer auth, the Lightfield-Version header, lists (`limit` 1–25, `offset`, `totalCount`,
// optionally from a lagging index), GET one, definitions, bare-value writes with
// relationship operations, notes and tasks with their required fields, Idempotency-Key
// (replay, concurrent duplicate, length), rate-limit headers per category and 429 with
// Retry-After. For the tests' side: injectable faults, a log of every request and of
// every record created.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import {
  type ApiRecord,
  type ApiRelationship,
  type FieldDefinition,
  noteDefinitions,
  taskDefinitions,
} from "./test-fixtures.ts";

export * from "./test-fixtures.ts";

/**
 * One injected fault, taken by the next request it matches (after the rate limit, auth
 * and version checks, so those stay as documented).
 * - `status`: answer it instead of handling the request (body: `body`, else a wrapped
 *   `internal_error`), with `Retry-After: retryAfter` when given.
 * - no `status`: the request is handled as usual and the fault changes its answer only —
 *   `headers` are added (e.g. `X-RateLimit-Remaining: 0`), `delayMs` holds it, `drop` loses
 *   it. So a write with `drop` (or a `delayMs` past the client's timeout) is done while its
 *   client sees a failure: the case Idempotency-Key replays are for.
 * - `drop: "hang"` never answers (the connection stays open until the client gives up or
 *   the server closes); `"reset"` destroys the connection.
 */
export type Fault = {
  status?: number;
  retryAfter?: string;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  drop?: "hang" | "reset";
  /** Only a request with this method takes the fault. */
  method?: string;
  /** Only a request to this path (exact) takes the fault. */
  path?: string;
};

export type Category = "read" | "write" | "search";

export type ServerRequest = {
  /** When the request arrived (ms since epoch). */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The raw body ("" for none). */
  body: string;
  category: Category;
  idempotencyKey?: string;
  /** The status answered; 0 while pending or when the answer was dropped. */
  status: number;
  /** The answer was a replay of an earlier one with the same Idempotency-Key. */
  replayed?: boolean;
  /** The fault this request took, if any. */
  fault?: Fault;
};

/** A record a POST created (a replay creates nothing). */
export type CreatedRecord = {
  at: number;
  type: string;
  id: string;
  idempotencyKey?: string;
  record: ApiRecord;
};

export type LightfieldServerOptions = {
  /** Requests per second per category before 429 (Lightfield: 25). */
  rateLimit?: number;
  /** Serve lists from a snapshot refreshed only by `refreshIndex()`. */
  laggingIndex?: boolean;
  /** Delay while a write runs (to make concurrent Idempotency-Key duplicates). */
  writeDelayMs?: number;
};

const VERSION = "2026-03-01";
const DAY_MS = 24 * 3_600_000;
const MAX_KEY = 255;
const TASK_STATUSES = ["TODO", "IN_PROGRESS", "COMPLETE", "CANCELLED"];
/** What each documented relationship key points at, for records the server creates. */
const RELATED: Record<string, { objectType: string; cardinality: string }> = {
  $account: { objectType: "accounts", cardinality: "has_one" },
  $opportunity: { objectType: "opportunities", cardinality: "has_one" },
  $assignedTo: { objectType: "members", cardinality: "has_one" },
  $owner: { objectType: "members", cardinality: "has_one" },
};
const BUILT_IN_DEFINITIONS: Record<string, Record<string, FieldDefinition>> = {
  notes: noteDefinitions,
  tasks: taskDefinitions,
};

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

const failure = (
  status: number,
  type: string,
  message: string,
  code?: string,
  param?: string,
): Answer => ({
  status,
  body: { error: { type, message, ...(code ? { code } : {}), ...(param ? { param } : {}) } },
});

export async function startLightfieldServer(apiKey: string, options: LightfieldServerOptions = {}) {
  const records = new Map<string, Map<string, ApiRecord>>();
  let index = new Map<string, ApiRecord[]>();
  const definitions = new Map<string, Record<string, FieldDefinition>>();
  const faults: Fault[] = [];
  const requests: ServerRequest[] = [];
  const created: CreatedRecord[] = [];
  const windows = new Map<Category, { second: number; used: number }>();
  const idempotency = new Map<
    string,
    { state: "running" } | { state: "done"; at: number; status: number; body: unknown }
  >();
  const hung = new Set<ServerResponse>();
  const settings = {
    rateLimit: options.rateLimit ?? 25,
    laggingIndex: options.laggingIndex ?? false,
    writeDelayMs: options.writeDelayMs ?? 0,
  };
  let seq = 0;

  const table = (type: string) => {
    const t = records.get(type) ?? new Map<string, ApiRecord>();
    records.set(type, t);
    return t;
  };
  const listed = (type: string): ApiRecord[] =>
    settings.laggingIndex ? (index.get(type) ?? []) : [...table(type).values()];

  function takeFault(method: string, path: string): Fault | undefined {
    const i = faults.findIndex(
      (f) => (!f.method || f.method === method) && (!f.path || f.path === path),
    );
    return i < 0 ? undefined : faults.splice(i, 1)[0];
  }

  /** Rate limit per category and per wall-clock second; its headers go on every answer. */
  function rateLimit(category: Category): { headers: Record<string, string>; over: boolean } {
    const second = Math.floor(Date.now() / 1000);
    const w = windows.get(category);
    const win = w && w.second === second ? w : { second, used: 0 };
    windows.set(category, win);
    win.used++;
    return {
      over: win.used > settings.rateLimit,
      headers: {
        "x-ratelimit-limit": String(settings.rateLimit),
        "x-ratelimit-remaining": String(Math.max(0, settings.rateLimit - win.used)),
        "x-ratelimit-reset": String(second + 1),
      },
    };
  }

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const method = req.method ?? "GET";
    const path = url.pathname.split("/").filter(Boolean);
    const key = req.headers["idempotency-key"];
    const entry: ServerRequest = {
      at: Date.now(),
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: "",
      category: method === "POST" ? "write" : path.length === 2 ? "search" : "read",
      ...(typeof key === "string" ? { idempotencyKey: key } : {}),
      status: 0,
    };
    requests.push(entry);
    entry.body = await readBody(req);

    const limits = rateLimit(entry.category);
    const reply = (answer: Answer, fault?: Fault) => {
      if (fault?.drop === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault?.drop === "hang") {
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return;
      }
      entry.status = answer.status;
      res.writeHead(answer.status, {
        "content-type": "application/json",
        ...limits.headers,
        ...answer.headers,
        ...fault?.headers,
      });
      res.end(JSON.stringify(answer.body));
    };

    // The documented 429 example is unwrapped.
    if (limits.over)
      return reply({
        status: 429,
        body: { type: "too_many_requests", message: "Rate limit exceeded" },
        headers: { "retry-after": "1" },
      });
    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return reply(failure(401, "unauthorized", "Invalid API key"));
    if (req.headers["lightfield-version"] !== VERSION)
      return reply(
        failure(
          400,
          "bad_request",
          "Missing or unsupported Lightfield-Version",
          "version_header",
          "Lightfield-Version",
        ),
      );

    const fault = takeFault(method, url.pathname);
    if (fault) entry.fault = fault;
    const answer: Answer =
      fault?.status !== undefined
        ? {
            status: fault.status,
            body: fault.body ?? { error: { type: "internal_error", message: "injected fault" } },
            headers: fault.retryAfter ? { "retry-after": fault.retryAfter } : {},
          }
        : await route(method, url, path, entry);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (entry.replayed) answer.headers = { ...answer.headers, "idempotent-replayed": "true" };
    reply(answer, fault);
  }

  async function route(
    method: string,
    url: URL,
    path: string[],
    entry: ServerRequest,
  ): Promise<Answer> {
    const [v1, type, id, sub] = path;
    if (v1 !== "v1" || !type) return failure(404, "not_found", "No such endpoint");

    if (method === "GET") {
      if (id === "definitions" && !sub)
        return {
          status: 200,
          body: { fieldDefinitions: definitions.get(type) ?? BUILT_IN_DEFINITIONS[type] ?? {} },
        };
      if (id && !sub) {
        const record = table(type).get(id);
        return record
          ? { status: 200, body: record }
          : failure(404, "not_found", `No ${type} ${id}`);
      }
      if (id) return failure(404, "not_found", "No such endpoint");
      const limit = Number(url.searchParams.get("limit") ?? 25);
      const offset = Number(url.searchParams.get("offset") ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 25)
        return failure(400, "bad_request", "limit must be between 1 and 25", undefined, "limit");
      if (!Number.isInteger(offset) || offset < 0)
        return failure(400, "bad_request", "offset must be ≥ 0", undefined, "offset");
      const all = listed(type);
      return {
        status: 200,
        body: { object: "list", data: all.slice(offset, offset + limit), totalCount: all.length },
      };
    }
    if (method !== "POST" || sub) return failure(404, "not_found", "No such endpoint");

    const contentType = String(entry.headers["content-type"] ?? "");
    if (!/^application\/json(\s*;|$)/i.test(contentType))
      return failure(415, "unsupported_media_type", "Content-Type must be application/json");
    const key = entry.idempotencyKey;
    if (key !== undefined && (key.length === 0 || key.length > MAX_KEY))
      return failure(
        400,
        "bad_request",
        `Idempotency-Key must be 1 to ${MAX_KEY} characters`,
        undefined,
        "Idempotency-Key",
      );
    const scoped = key !== undefined ? `${method} ${url.pathname} ${key}` : undefined;
    const previous = scoped ? idempotency.get(scoped) : undefined;
    if (previous?.state === "running")
      return failure(
        409,
        "conflict",
        "A request with this Idempotency-Key is in progress",
        "idempotency_conflict",
      );
    if (previous?.state === "done" && Date.now() - previous.at < DAY_MS) {
      entry.replayed = true;
      return { status: previous.status, body: previous.body };
    }
    if (scoped) idempotency.set(scoped, { state: "running" });
    if (settings.writeDelayMs) await new Promise((r) => setTimeout(r, settings.writeDelayMs));

    const answer = write(type, id, entry.body, key);
    // A failed original runs again on retry; a success is replayed for 24 h.
    if (scoped) {
      if (answer.status < 400)
        idempotency.set(scoped, {
          state: "done",
          at: Date.now(),
          status: answer.status,
          body: answer.body,
        });
      else idempotency.delete(scoped);
    }
    return answer;
  }

  /** Create (no id) or update; bare values in, `{value, valueType}` out. */
  function write(type: string, id: string | undefined, raw: string, key?: string): Answer {
    let input: { fields?: Record<string, unknown>; relationships?: Record<string, unknown> };
    try {
      input = JSON.parse(raw || "{}");
    } catch {
      return failure(400, "bad_request", "Body is not JSON");
    }
    const existing = id ? table(type).get(id) : undefined;
    if (id && !existing) return failure(404, "not_found", `No ${type} ${id}`);
    const invalid = existing ? checkUpdate(type, input) : checkCreate(type, input);
    if (invalid) return invalid;
    const now = new Date().toISOString();
    const record: ApiRecord = existing
      ? structuredClone(existing)
      : {
          id: `${type.slice(0, 3)}_${(++seq).toString(36)}${Date.now().toString(36)}`,
          createdAt: now,
          updatedAt: now,
          httpLink: null,
          externalId: null,
          fields: {},
          relationships: {},
        };
    const defs = definitions.get(type) ?? BUILT_IN_DEFINITIONS[type] ?? {};
    for (const [k, value] of Object.entries(input.fields ?? {})) {
      if (value && typeof value === "object" && "valueType" in (value as object))
        return failure(
          422,
          "unprocessable_content",
          `Write ${k} as a bare value`,
          undefined,
          `fields.${k}`,
        );
      record.fields[k] = { value, valueType: defs[k]?.valueType ?? inferType(value) };
    }
    for (const [k, op] of Object.entries(input.relationships ?? {})) {
      const current: ApiRelationship = record.relationships[k] ?? {
        cardinality: RELATED[k]?.cardinality ?? "has_many",
        ...(RELATED[k] ? { objectType: RELATED[k].objectType } : {}),
        values: [],
      };
      let ids: string[];
      let next: string[];
      if (!existing || typeof op === "string" || Array.isArray(op)) {
        ids = ([] as string[]).concat(op as string | string[]);
        next = ids;
      } else {
        const o = (op ?? {}) as Record<string, string | string[]>;
        const verb = (["add", "remove", "replace"] as const).find((x) => x in o);
        if (!verb)
          return failure(
            422,
            "unprocessable_content",
            "Use add, remove or replace",
            undefined,
            `relationships.${k}`,
          );
        ids = ([] as string[]).concat(o[verb]!);
        next =
          verb === "replace"
            ? ids
            : verb === "add"
              ? [...new Set([...current.values, ...ids])]
              : current.values.filter((x) => !ids.includes(x));
      }
      if (!ids.every((x) => typeof x === "string" && x.length > 0))
        return failure(
          422,
          "unprocessable_content",
          `${k} takes record ids`,
          undefined,
          `relationships.${k}`,
        );
      if (ids.length > 25)
        return failure(
          422,
          "unprocessable_content",
          "At most 25 ids per relationship per request",
          "relationship_write_limit_exceeded",
          `relationships.${k}`,
        );
      record.relationships[k] = { ...current, values: next };
    }
    record.updatedAt = now;
    table(type).set(record.id, record);
    if (!existing)
      created.push({
        at: Date.now(),
        type,
        id: record.id,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
        record: structuredClone(record),
      });
    return { status: existing ? 200 : 201, body: record };
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { type: "internal_error", message: String(error) } }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    /** The fault queue: push to it, or use `inject`. */
    faults,
    /** Every request in arrival order. */
    requests,
    /** Every record a POST created, in order (replays add nothing). */
    created,
    settings,
    /** Queues `fault` for the next `times` matching requests. */
    inject(fault: Fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push({ ...fault });
    },
    /** The records created of one type, e.g. `createdOf("notes")`. */
    createdOf: (type: string) => created.filter((c) => c.type === type),
    /** Forgets requests, faults, created records, Idempotency-Keys and rate windows (not the store). */
    reset() {
      windows.clear();
      requests.length = 0;
      faults.length = 0;
      created.length = 0;
      idempotency.clear();
    },
    /** Puts a record as it is (the live store); lists see it now unless the index lags. */
    upsert(type: string, record: ApiRecord) {
      table(type).set(record.id, record);
    },
    remove(type: string, id: string) {
      table(type).delete(id);
    },
    get: (type: string, id: string) => table(type).get(id),
    /** Every record of a type in the live store. */
    all: (type: string) => [...table(type).values()],
    setDefinitions(type: string, fields: Record<string, FieldDefinition>) {
      definitions.set(type, fields);
    },
    /** Brings the lagging list index up to the live store. */
    refreshIndex() {
      index = new Map([...records].map(([t, m]) => [t, structuredClone([...m.values()])]));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type LightfieldServer = Awaited<ReturnType<typeof startLightfieldServer>>;

/** Notes need a title; tasks a title, a documented status and an assignee (422 names the field). */
function checkCreate(
  type: string,
  input: { fields?: Record<string, unknown>; relationships?: Record<string, unknown> },
): Answer | undefined {
  const fields = input.fields ?? {};
  const relationships = input.relationships ?? {};
  const missing = (param: string) =>
    failure(422, "unprocessable_content", `${param} is required`, undefined, param);
  if (type !== "notes" && type !== "tasks") return undefined;
  if (typeof fields.$title !== "string" || fields.$title.trim() === "")
    return missing("fields.$title");
  if (type === "notes") {
    if (fields.$content !== undefined && typeof fields.$content !== "string")
      return failure(
        422,
        "unprocessable_content",
        "$content is markdown text",
        undefined,
        "fields.$content",
      );
    return undefined;
  }
  if (fields.$status === undefined || fields.$status === null) return missing("fields.$status");
  const status = checkStatus(fields.$status);
  if (status) return status;
  const assignee = ([] as unknown[]).concat(relationships.$assignedTo ?? []);
  if (assignee.length === 0 || assignee.some((a) => typeof a !== "string" || a === ""))
    return missing("relationships.$assignedTo");
  return undefined;
}

function checkUpdate(
  type: string,
  input: { fields?: Record<string, unknown> },
): Answer | undefined {
  if (type === "tasks" && input.fields && "$status" in input.fields)
    return checkStatus(input.fields.$status);
  return undefined;
}

function checkStatus(status: unknown): Answer | undefined {
  if (typeof status === "string" && TASK_STATUSES.includes(status)) return undefined;
  return failure(
    422,
    "unprocessable_content",
    `$status must be one of ${TASK_STATUSES.join(", ")}`,
    undefined,
    "fields.$status",
  );
}

function inferType(value: unknown): string {
  if (typeof value === "number") return "NUMBER";
  if (typeof value === "boolean") return "CHECKBOX";
  return "TEXT";
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
