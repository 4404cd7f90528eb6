// A local HTTP server speaking Lightfield's documented API (version 2026-03-01,
// /work/shared/LIGHTFIELD.md): bearer auth, the Lightfield-Version header, lists
// (`limit` 1–25, `offset`, `totalCount`, optionally from a lagging index), GET one,
// definitions, bare-value writes with relationship operations, Idempotency-Key,
// rate-limit headers per category and 429 with Retry-After — plus injectable faults.
// Ingest's poller tests and dispatch's write-back tests share it.
import { createServer, type IncomingMessage, type Server } from "node:http";

export type ApiField = { value: unknown; valueType: string };
export type ApiRelationship = { cardinality?: string; objectType?: string; values: string[] };
export type ApiRecord = {
  id: string;
  createdAt: string;
  updatedAt: string | null;
  httpLink: string | null;
  externalId: string | null;
  fields: Record<string, ApiField>;
  relationships: Record<string, ApiRelationship>;
};
export type FieldDefinition = {
  valueType: string;
  label?: string;
  typeConfiguration?: { options?: { id: string; label: string }[] };
};
export type Fault = { status: number; retryAfter?: string; body?: unknown };
export type ServerRequest = {
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
};
type Category = "read" | "write" | "search";

export type LightfieldServerOptions = {
  /** Requests per second per category before 429 (Lightfield: 25). */
  rateLimit?: number;
  /** Serve lists from a snapshot refreshed only by `refreshIndex()`. */
  laggingIndex?: boolean;
  /** Delay before a write answers (to make concurrent Idempotency-Key duplicates). */
  writeDelayMs?: number;
};

const VERSION = "2026-03-01";
const DAY_MS = 24 * 3_600_000;

export async function startLightfieldServer(apiKey: string, options: LightfieldServerOptions = {}) {
  const records = new Map<string, Map<string, ApiRecord>>();
  let index = new Map<string, ApiRecord[]>();
  const definitions = new Map<string, Record<string, FieldDefinition>>();
  const faults: Fault[] = [];
  const requests: ServerRequest[] = [];
  const windows = new Map<Category, { second: number; used: number }>();
  const idempotency = new Map<
    string,
    { state: "running" } | { state: "done"; at: number; status: number; body: unknown }
  >();
  const settings = {
    rateLimit: options.rateLimit ?? 25,
    laggingIndex: options.laggingIndex ?? false,
  };
  let seq = 0;

  const table = (type: string) => {
    const t = records.get(type) ?? new Map<string, ApiRecord>();
    records.set(type, t);
    return t;
  };
  const listed = (type: string): ApiRecord[] =>
    settings.laggingIndex ? (index.get(type) ?? []) : [...table(type).values()];

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const entry: ServerRequest = {
      at: Date.now(),
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      status: 0,
    };
    requests.push(entry);
    const rawBody = await readBody(req);
    let headers: Record<string, string> = {};
    const send = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      entry.status = status;
      res.writeHead(status, { "content-type": "application/json", ...headers, ...extra });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, code?: string, param?: string) =>
      send(status, {
        error: { type, message, ...(code ? { code } : {}), ...(param ? { param } : {}) },
      });

    // Rate limit per category and per wall-clock second; headers on every response.
    const path = url.pathname.split("/").filter(Boolean);
    const category: Category =
      req.method === "POST" ? "write" : path.length === 2 ? "search" : "read";
    const second = Math.floor(Date.now() / 1000);
    const w = windows.get(category);
    const win = w && w.second === second ? w : { second, used: 0 };
    windows.set(category, win);
    win.used++;
    headers = {
      "x-ratelimit-limit": String(settings.rateLimit),
      "x-ratelimit-remaining": String(Math.max(0, settings.rateLimit - win.used)),
      "x-ratelimit-reset": String(second + 1),
    };
    if (win.used > settings.rateLimit)
      // The documented 429 example is unwrapped.
      return send(
        429,
        { type: "too_many_requests", message: "Rate limit exceeded" },
        { "retry-after": "1" },
      );

    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return error(401, "unauthorized", "Invalid API key");
    if (req.headers["lightfield-version"] !== VERSION)
      return error(
        400,
        "bad_request",
        "Missing or unsupported Lightfield-Version",
        "version_header",
        "Lightfield-Version",
      );
    const fault = faults.shift();
    if (fault)
      return send(
        fault.status,
        fault.body ?? { error: { type: "internal_error", message: "injected" } },
        fault.retryAfter ? { "retry-after": fault.retryAfter } : {},
      );

    const [v1, type, id, sub] = path;
    if (v1 !== "v1" || !type) return error(404, "not_found", "No such endpoint");

    if (req.method === "GET") {
      if (id === "definitions" && !sub)
        return send(200, { fieldDefinitions: definitions.get(type) ?? {} });
      if (id && !sub) {
        const record = table(type).get(id);
        return record ? send(200, record) : error(404, "not_found", `No ${type} ${id}`);
      }
      if (id) return error(404, "not_found", "No such endpoint");
      const limit = Number(url.searchParams.get("limit") ?? 25);
      const offset = Number(url.searchParams.get("offset") ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 25)
        return error(400, "bad_request", "limit must be between 1 and 25", undefined, "limit");
      if (!Number.isInteger(offset) || offset < 0)
        return error(400, "bad_request", "offset must be ≥ 0", undefined, "offset");
      const all = listed(type);
      return send(200, {
        object: "list",
        data: all.slice(offset, offset + limit),
        totalCount: all.length,
      });
    }
    if (req.method !== "POST" || sub) return error(404, "not_found", "No such endpoint");

    if (!String(req.headers["content-type"] ?? "").startsWith("application/json"))
      return error(415, "unsupported_media_type", "Content-Type must be application/json");
    const key = req.headers["idempotency-key"];
    if (typeof key === "string" && key.length > 255)
      return error(
        400,
        "bad_request",
        "Idempotency-Key longer than 255",
        undefined,
        "Idempotency-Key",
      );
    const scoped = typeof key === "string" ? `${req.method} ${url.pathname} ${key}` : undefined;
    const previous = scoped ? idempotency.get(scoped) : undefined;
    if (previous?.state === "running")
      return error(
        409,
        "conflict",
        "A request with this Idempotency-Key is in progress",
        "idempotency_conflict",
      );
    if (previous?.state === "done" && Date.now() - previous.at < DAY_MS)
      return send(previous.status, previous.body, { "idempotent-replayed": "true" });
    if (scoped) idempotency.set(scoped, { state: "running" });
    if (options.writeDelayMs) await new Promise((r) => setTimeout(r, options.writeDelayMs));

    const [status, body] = write(type, id, rawBody);
    // A failed original runs again on retry; a success is replayed for 24 h.
    if (scoped) {
      if (status < 400) idempotency.set(scoped, { state: "done", at: Date.now(), status, body });
      else idempotency.delete(scoped);
    }
    return send(status, body);
  });

  /** Create (no id) or update; bare values in, `{value, valueType}` out. */
  function write(type: string, id: string | undefined, raw: string): [number, unknown] {
    const err = (status: number, t: string, message: string, code?: string, param?: string) =>
      [
        status,
        { error: { type: t, message, ...(code ? { code } : {}), ...(param ? { param } : {}) } },
      ] as [number, unknown];
    let input: { fields?: Record<string, unknown>; relationships?: Record<string, unknown> };
    try {
      input = JSON.parse(raw || "{}");
    } catch {
      return err(400, "bad_request", "Body is not JSON");
    }
    const existing = id ? table(type).get(id) : undefined;
    if (id && !existing) return err(404, "not_found", `No ${type} ${id}`);
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
    const defs = definitions.get(type) ?? {};
    for (const [k, value] of Object.entries(input.fields ?? {})) {
      if (value && typeof value === "object" && "valueType" in (value as object))
        return err(
          422,
          "unprocessable_content",
          `Write ${k} as a bare value`,
          undefined,
          `fields.${k}`,
        );
      record.fields[k] = { value, valueType: defs[k]?.valueType ?? inferType(value) };
    }
    for (const [k, op] of Object.entries(input.relationships ?? {})) {
      const current = record.relationships[k] ?? { cardinality: "has_many", values: [] };
      let ids: string[];
      let next: string[];
      if (!existing || typeof op === "string" || Array.isArray(op)) {
        ids = ([] as string[]).concat(op as string | string[]);
        next = ids;
      } else {
        const o = op as Record<string, string | string[]>;
        const verb = (["add", "remove", "replace"] as const).find((x) => x in o);
        if (!verb)
          return err(
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
      if (ids.length > 25)
        return err(
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
    return [existing ? 200 : 201, record];
  }

  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    requests,
    settings,
    /** Puts a record as it is (the live store); lists see it now unless the index lags. */
    upsert(type: string, record: ApiRecord) {
      table(type).set(record.id, record);
    },
    remove(type: string, id: string) {
      table(type).delete(id);
    },
    get: (type: string, id: string) => table(type).get(id),
    setDefinitions(type: string, fields: Record<string, FieldDefinition>) {
      definitions.set(type, fields);
    },
    /** Brings the lagging list index up to the live store. */
    refreshIndex() {
      index = new Map([...records].map(([t, m]) => [t, structuredClone([...m.values()])]));
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
export type LightfieldServer = Awaited<ReturnType<typeof startLightfieldServer>>;

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

// ── Fixtures from the documented examples ──────────────────────────────────────

export const HEADCOUNT_OPTIONS = [
  { id: "opt_hc_1", label: "1-10" },
  { id: "opt_hc_2", label: "11-50" },
  { id: "opt_hc_3", label: "51-200" },
  { id: "opt_hc_4", label: "201-500" },
];

export const accountDefinitions: Record<string, FieldDefinition> = {
  $name: { valueType: "TEXT", label: "Name" },
  $website: { valueType: "URL", label: "Website" },
  $headcount: {
    valueType: "SINGLE_SELECT",
    label: "Headcount",
    typeConfiguration: { options: HEADCOUNT_OPTIONS },
  },
  $industry: {
    valueType: "MULTI_SELECT",
    label: "Industry",
    typeConfiguration: { options: [{ id: "opt_ind_saas", label: "SaaS" }] },
  },
};

export const contactDefinitions: Record<string, FieldDefinition> = {
  $name: { valueType: "FULL_NAME", label: "Name" },
  $email: { valueType: "EMAIL", label: "Email" },
  $phone: { valueType: "TELEPHONE", label: "Phone" },
  title: { valueType: "TEXT", label: "Job title" },
  seniority: {
    valueType: "SINGLE_SELECT",
    label: "Seniority",
    typeConfiguration: {
      options: [
        { id: "opt_sen_ic", label: "Individual contributor" },
        { id: "opt_sen_exec", label: "Executive" },
      ],
    },
  },
};

export function contactFixture(
  i: number,
  overrides: Partial<ApiRecord> & { title?: string; accountId?: string } = {},
): ApiRecord {
  const { title, accountId, ...rest } = overrides;
  return {
    id: `con_${i}`,
    createdAt: "2026-11-01T00:00:00.000Z",
    updatedAt: "2026-11-20T10:00:00.000Z",
    httpLink: `https://app.lightfield.app/contacts/con_${i}`,
    externalId: null,
    fields: {
      $name: { value: { firstName: `P${i}`, lastName: "Doe" }, valueType: "FULL_NAME" },
      $email: { value: [`person${i}@acme.io`], valueType: "EMAIL" },
      $phone: { value: ["+14155550100"], valueType: "TELEPHONE" },
      title: { value: title ?? "Engineer", valueType: "TEXT" },
      seniority: { value: "opt_sen_ic", valueType: "SINGLE_SELECT" },
    },
    relationships: {
      $account: { cardinality: "has_one", objectType: "accounts", values: [accountId ?? "acc_1"] },
    },
    ...rest,
  };
}

export function accountFixture(id = "acc_1", overrides: Partial<ApiRecord> = {}): ApiRecord {
  return {
    id,
    createdAt: "2026-10-01T00:00:00.000Z",
    updatedAt: "2026-11-20T09:00:00.000Z",
    httpLink: `https://app.lightfield.app/accounts/${id}`,
    externalId: null,
    fields: {
      $name: { value: "Acme", valueType: "TEXT" },
      $website: { value: "https://acme.io", valueType: "URL" },
      $headcount: { value: "opt_hc_3", valueType: "SINGLE_SELECT" },
      $industry: { value: ["opt_ind_saas"], valueType: "MULTI_SELECT" },
    },
    relationships: {
      $contact: { cardinality: "has_many", objectType: "contacts", values: ["con_0"] },
    },
    ...overrides,
  };
}
