/**
 * Lightfield REST client (undici) for the list endpoints the poller needs.
 * Contract (docs/integration-notes.md): `Authorization: Bearer sk_lf_…`,
 * `Lightfield-Version: 2026-03-01`, `limit` ≤ 25 with `offset`, `$field`
 * filters, 25 requests/s per org, 429 with Retry-After, errors as
 * `{"error":{type,message,code,param}}`.
 */
import { type LightfieldRecord, LightfieldRecord as RecordSchema } from "@pw/events";
import { request } from "undici";
import { z } from "zod";

export const LIGHTFIELD_VERSION = "2026-03-01";
export const MAX_PAGE = 25;

export class LightfieldApiError extends Error {
  readonly status: number;
  readonly type?: string;
  readonly code?: string;
  readonly param?: string;
  constructor(
    status: number,
    body: { type?: string; message?: string; code?: string; param?: string } | undefined,
  ) {
    super(
      `Lightfield ${status}${body?.type ? ` ${body.type}` : ""}: ${body?.message ?? "no message"}${body?.param ? ` (param ${body.param})` : ""}`,
    );
    this.name = "LightfieldApiError";
    this.status = status;
    this.type = body?.type;
    this.code = body?.code;
    this.param = body?.param;
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
  maxRetries?: number;
  timeoutMs?: number;
  /** For tests: how to wait. */
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
    for (let attempt = 0; ; attempt++) {
      await slot();
      let status: number;
      let text: string;
      let retryAfter: string | undefined;
      try {
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
        status = res.statusCode;
        const ra = res.headers["retry-after"];
        retryAfter = Array.isArray(ra) ? ra[0] : ra;
        text = await res.body.text();
      } catch (error) {
        if (attempt >= maxRetries) throw error;
        await sleep(backoff(attempt));
        continue;
      }
      if (status >= 200 && status < 300) return JSON.parse(text);
      const parsed = ErrorResponse.safeParse(safeJson(text));
      const error = new LightfieldApiError(
        status,
        parsed.success ? parsed.data.error : { message: text.slice(0, 200) },
      );
      if (status === 429 && attempt < maxRetries) {
        await sleep(retryAfterMs(retryAfter) ?? backoff(attempt));
        continue;
      }
      if (status >= 500 && attempt < maxRetries) {
        await sleep(backoff(attempt));
        continue;
      }
      throw error;
    }
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

function backoff(attempt: number): number {
  return Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** Retry-After is seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
