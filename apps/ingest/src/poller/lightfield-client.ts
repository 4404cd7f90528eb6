/**
 * Lightfield REST client (undici) for what the poller reads: lists, one record,
 * field definitions. Contract: /work/shared/LIGHTFIELD.md, choices in
 * docs/integration-notes.md. Every request carries the bearer key and
 * `Lightfield-Version: 2026-03-01`. Pacing follows the `X-RateLimit-*` headers
 * (Remaining 0 → wait until Reset) under a 25 req/s ceiling; 429 waits
 * Retry-After; network errors, 429 and 5xx are retried (@pw/resilience).
 */
import { retryAfterMs, retrying } from "@pw/resilience";
import { request } from "undici";
import { z } from "zod";

export const LIGHTFIELD_VERSION = "2026-03-01";
export const MAX_PAGE = 25;
/** Lightfield's documented ceiling per category (read, write, search). */
export const MAX_RATE = 25;
/** Between retries without a Retry-After: full jitter under 1 s, 2 s, 4 s, … at most 30 s. */
const BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

/** A record as the API returns it (documented shape; unknown keys kept). */
export const ApiRecord = z.looseObject({
  id: z.string().min(1),
  createdAt: z.string().nullish(),
  updatedAt: z.string().nullish(),
  httpLink: z.string().nullish(),
  externalId: z.string().nullish(),
  fields: z.record(z.string(), z.looseObject({ value: z.unknown(), valueType: z.string() })),
  relationships: z
    .record(
      z.string(),
      z.looseObject({
        cardinality: z.string().nullish(),
        objectType: z.string().nullish(),
        values: z.array(z.string()).default([]),
      }),
    )
    .default({}),
});
export type ApiRecord = z.infer<typeof ApiRecord>;

const ListResponse = z.object({
  data: z.array(ApiRecord),
  object: z.string().optional(),
  totalCount: z.number().int().nonnegative().optional(),
});
export type ListResponse = z.infer<typeof ListResponse>;

const Option = z.looseObject({ id: z.string(), label: z.string() });
const Definition = z.looseObject({
  valueType: z.string().optional(),
  typeConfiguration: z.looseObject({ options: z.array(Option).optional() }).nullish(),
});
/** Field key → its definition. The container's name is not documented: accept the likely ones. */
const DefinitionsResponse = z
  .looseObject({
    fieldDefinitions: z.record(z.string(), Definition).optional(),
    fields: z.record(z.string(), Definition).optional(),
  })
  .transform((b) => b.fieldDefinitions ?? b.fields ?? {});
export type FieldDefinitions = z.output<typeof DefinitionsResponse>;

/** Wrapped `{error:{…}}` (documented) or unwrapped `{type, message}` (the docs' 429 example). */
const ErrorBody = z.object({
  type: z.string().optional(),
  message: z.string().optional(),
  code: z.string().optional(),
  param: z.string().optional(),
});
const ErrorResponse = z.union([
  z.object({ error: ErrorBody }).transform((b) => b.error),
  ErrorBody,
]);

export class LightfieldApiError extends Error {
  readonly status: number;
  readonly type?: string;
  readonly code?: string;
  readonly param?: string;
  /** From Retry-After on a 429/503: how long Lightfield asked us to wait. */
  readonly retryAfterMs?: number;
  constructor(status: number, body: z.infer<typeof ErrorBody> | undefined, retryAfterMs?: number) {
    super(
      `Lightfield ${status}${body?.type ? ` ${body.type}` : ""}${body?.code ? ` (${body.code})` : ""}: ${body?.message ?? "no message"}${body?.param ? ` (param ${body.param})` : ""}`,
    );
    this.name = "LightfieldApiError";
    this.status = status;
    this.type = body?.type;
    this.code = body?.code;
    this.param = body?.param;
    this.retryAfterMs = retryAfterMs;
  }
}

export type LightfieldClientOptions = {
  baseUrl: string;
  apiKey: string;
  /** Requests per second at most (default and ceiling 25); the headers may lower it. */
  ratePerSecond?: number;
  /** Retries after the first attempt on network errors, 429 and 5xx. Default 5. */
  maxRetries?: number;
  timeoutMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Sent instead of the supported version (tests of the version check). */
  version?: string;
};

export type LightfieldClient = {
  list(objectType: string, params: { limit: number; offset: number }): Promise<ListResponse>;
  get(objectType: string, id: string): Promise<ApiRecord>;
  definitions(objectType: string): Promise<FieldDefinitions>;
};

export function createLightfieldClient(options: LightfieldClientOptions): LightfieldClient {
  const maxRetries = options.maxRetries ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let rate = Math.min(MAX_RATE, options.ratePerSecond ?? MAX_RATE);
  // Even spacing under the rate, plus a hold until Reset when the server says none remain.
  let nextSlot = 0;
  let holdUntil = 0;
  async function slot() {
    for (;;) {
      const now = Date.now();
      const at = Math.max(now, nextSlot, holdUntil);
      if (at <= now) break;
      await sleep(at - now);
    }
    // 5% headroom: timer and network jitter must not push a window over the limit.
    nextSlot = Date.now() + 1050 / rate;
  }
  function pace(headers: Record<string, string | string[] | undefined>) {
    const limit = Number(headers["x-ratelimit-limit"]);
    if (Number.isFinite(limit) && limit > 0)
      rate = Math.min(MAX_RATE, options.ratePerSecond ?? MAX_RATE, limit);
    const remaining = Number(headers["x-ratelimit-remaining"]);
    const reset = Number(headers["x-ratelimit-reset"]);
    if (headers["x-ratelimit-remaining"] !== undefined && remaining <= 0 && Number.isFinite(reset))
      // Reset is unix seconds; a value far off (clock skew) is capped at a minute.
      holdUntil = Math.max(holdUntil, Math.min(reset * 1000, Date.now() + 60_000));
  }

  async function get(path: string, query: Record<string, string> = {}): Promise<unknown> {
    const url = new URL(path, options.baseUrl);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const text = await retrying(
      async () => {
        await slot();
        const res = await request(url, {
          method: "GET",
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            "lightfield-version": options.version ?? LIGHTFIELD_VERSION,
            accept: "application/json",
          },
          headersTimeout: options.timeoutMs ?? 15_000,
          bodyTimeout: options.timeoutMs ?? 15_000,
        });
        pace(res.headers);
        const body = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) return body;
        const parsed = ErrorResponse.safeParse(safeJson(body));
        throw new LightfieldApiError(
          res.statusCode,
          parsed.success ? parsed.data : { message: body.slice(0, 200) },
          res.statusCode === 429 || res.statusCode === 503
            ? retryAfterMs(res.headers["retry-after"])
            : undefined,
        );
      },
      { attempts: maxRetries + 1, backoff: BACKOFF, retryable },
    );
    return JSON.parse(text);
  }

  const seg = encodeURIComponent;
  return {
    async list(objectType, params) {
      const limit = Math.max(1, Math.min(MAX_PAGE, params.limit));
      return ListResponse.parse(
        await get(`/v1/${seg(objectType)}`, {
          limit: String(limit),
          offset: String(params.offset),
        }),
      );
    },
    async get(objectType, id) {
      return ApiRecord.parse(await get(`/v1/${seg(objectType)}/${seg(id)}`));
    },
    async definitions(objectType) {
      return DefinitionsResponse.parse(await get(`/v1/${seg(objectType)}/definitions`));
    },
  };
}

/** Network errors (no answer, or a cut-off one), 429 and 5xx; other answers are final. */
function retryable(error: unknown): boolean {
  return !(error instanceof LightfieldApiError) || error.status === 429 || error.status >= 500;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
