/**
 * Lightfield REST client (undici) for the list endpoints the poller needs.
 * Contract (docs/integration-notes.md): `Authorization: Bearer sk_lf_…`,
 * `Lightfield-Version: 2026-03-01`, `limit` ≤ 25 with `offset`, `$field`
 * filters, 25 requests/s per org, 429 with Retry-After, errors as
 * `{"error":{type,message,code,param}}`. Network errors, 429 and 5xx are retried
 * (`retrying` from @pw/resilience), waiting what Retry-After asks when it is sent.
 */
import { type LightfieldRecord, LightfieldRecord as RecordSchema } from "@pw/events";
import { retryAfterMs, retrying } from "@pw/resilience";
import { request } from "undici";
import { z } from "zod";

export const LIGHTFIELD_VERSION = "2026-03-01";
export const MAX_PAGE = 25;
/** Between retries without a Retry-After: full jitter under 1 s, 2 s, 4 s, … at most 30 s. */
const BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

export class LightfieldApiError extends Error {
  readonly status: number;
  readonly type?: string;
  readonly code?: string;
  readonly param?: string;
  /** From Retry-After on a 429/503: how long Lightfield asked us to wait. */
  readonly retryAfterMs?: number;
  constructor(
    status: number,
    body: { type?: string; message?: string; code?: string; param?: string } | undefined,
    retryAfterMs?: number,
  ) {
    super(
      `Lightfield ${status}${body?.type ? ` ${body.type}` : ""}: ${body?.message ?? "no message"}${body?.param ? ` (param ${body.param})` : ""}`,
    );
    this.name = "LightfieldApiError";
    this.status = status;
    this.type = body?.type;
    this.code = body?.code;
    this.param = body?.param;
    this.retryAfterMs = retryAfterMs;
  }
}

const ListResponse = z.object({
  data: z.array(RecordSchema),
  /** Some responses say whether more pages exist; when absent a short page means the end. */
  hasMore: z.boolean().optional(),
});

const ErrorResponse = z.object({
  error: z.object({
    type: z.string().optional(),
    message: z.string().optional(),
    code: z.string().optional(),
    param: z.string().optional(),
  }),
});

export type ListParams = { limit: number; offset: number; updatedSince?: string };

export type LightfieldClientOptions = {
  baseUrl: string;
  apiKey: string;
  /** Requests per second (Lightfield allows 25 per org per class). */
  ratePerSecond?: number;
  /** Retries after the first attempt on network errors, 429 and 5xx. Default 5. */
  maxRetries?: number;
  timeoutMs?: number;
  /** For tests: how to wait for a rate-limit slot. */
  sleep?: (ms: number) => Promise<void>;
};

export type LightfieldClient = {
  list(
    objectType: string,
    params: ListParams,
  ): Promise<{ records: LightfieldRecord[]; hasMore: boolean }>;
};

export function createLightfieldClient(options: LightfieldClientOptions): LightfieldClient {
  const rate = options.ratePerSecond ?? 25;
  const maxRetries = options.maxRetries ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // Token spacing: at most `rate` requests per second, evenly spaced.
  let nextSlot = 0;
  async function slot() {
    const now = Date.now();
    const at = Math.max(now, nextSlot);
    // 5% headroom: timer and network jitter must not push a window over the limit.
    nextSlot = at + 1050 / rate;
    if (at > now) await sleep(at - now);
  }

  async function get(path: string, query: Record<string, string>): Promise<unknown> {
    const url = new URL(path, options.baseUrl);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const text = await retrying(
      async () => {
        await slot();
        const res = await request(url, {
          method: "GET",
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            "lightfield-version": LIGHTFIELD_VERSION,
            accept: "application/json",
          },
          headersTimeout: options.timeoutMs ?? 15_000,
          bodyTimeout: options.timeoutMs ?? 15_000,
        });
        const body = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) return body;
        const parsed = ErrorResponse.safeParse(safeJson(body));
        throw new LightfieldApiError(
          res.statusCode,
          parsed.success ? parsed.data.error : { message: body.slice(0, 200) },
          res.statusCode === 429 || res.statusCode === 503
            ? retryAfterMs(res.headers["retry-after"])
            : undefined,
        );
      },
      { attempts: maxRetries + 1, backoff: BACKOFF, retryable },
    );
    return JSON.parse(text);
  }

  return {
    async list(objectType, params) {
      const query: Record<string, string> = {
        limit: String(Math.min(MAX_PAGE, params.limit)),
        offset: String(params.offset),
        sort: "$updatedAt",
      };
      if (params.updatedSince) query["$updatedAt[gte]"] = params.updatedSince;
      const body = ListResponse.parse(await get(`/v1/${objectType}`, query));
      return {
        records: body.data,
        hasMore: body.hasMore ?? body.data.length >= Math.min(MAX_PAGE, params.limit),
      };
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
