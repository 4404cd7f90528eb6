// How a Lightfield call fails. Every error carries `transient`: true when the same call is
// expected to succeed later (429, 5xx, timeouts, connection errors, a concurrent duplicate
// of an Idempotency-Key), so a caller's queue retries it; false when the request itself is
// wrong (other 4xx, or refused before sending).
import { z } from "zod";

/** Wrapped `{error:{…}}` (documented) or unwrapped `{type, message}` (the docs' 429 example). */
const ErrorBody = z.object({
  type: z.string().optional(),
  message: z.string().optional(),
  code: z.string().optional(),
  param: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
const ErrorResponse = z.union([
  z.object({ error: ErrorBody }).transform((b) => b.error),
  ErrorBody,
]);

/** The error body of a response, or its first 200 characters as the message. */
export function parseErrorBody(text: string): ErrorBody {
  const parsed = ErrorResponse.safeParse(safeJson(text));
  return parsed.success ? parsed.data : { message: text.slice(0, 200) };
}

/** A concurrent request with the same Idempotency-Key is still running: retry later. */
export const IDEMPOTENCY_CONFLICT = "idempotency_conflict";

/** Whether an answer of this status (and error code) may succeed when asked again later. */
export function isTransientStatus(status: number, code?: string): boolean {
  if (status === 409) return code === IDEMPOTENCY_CONFLICT;
  return status === 408 || status === 429 || status >= 500;
}

export class LightfieldApiError extends Error {
  readonly status: number;
  readonly type?: string;
  readonly code?: string;
  readonly param?: string;
  /** From Retry-After on a 429/503: how long Lightfield asked us to wait. */
  readonly retryAfterMs?: number;
  /** 429, 5xx, 408 and a 409 `idempotency_conflict`: the same call may succeed later. */
  readonly transient: boolean;
  /** Attempts made by the call that threw (set when the call gives up). */
  attempts?: number;
  constructor(status: number, body: ErrorBody | undefined, retryAfterMs?: number) {
    super(
      `Lightfield ${status}${body?.type ? ` ${body.type}` : ""}${body?.code ? ` (${body.code})` : ""}: ${body?.message ?? "no message"}${body?.param ? ` (param ${body.param})` : ""}`,
    );
    this.name = "LightfieldApiError";
    this.status = status;
    this.type = body?.type;
    this.code = body?.code;
    this.param = body?.param;
    this.retryAfterMs = retryAfterMs;
    this.transient = isTransientStatus(status, body?.code);
  }
}

/** No answer: the deadline passed (`code: "timeout"`) or the connection failed or broke. */
export class LightfieldNetworkError extends Error {
  readonly code: "timeout" | "network";
  readonly transient = true;
  attempts?: number;
  constructor(code: "timeout" | "network", cause: unknown) {
    super(
      `Lightfield ${code === "timeout" ? "timed out" : "unreachable"}: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = "LightfieldNetworkError";
    this.code = code;
  }
}

/** Refused before sending: the request can never be valid (e.g. an Idempotency-Key too long). */
export class LightfieldRequestError extends Error {
  readonly code: string;
  readonly param?: string;
  readonly transient = false;
  constructor(code: string, message: string, param?: string) {
    super(message);
    this.name = "LightfieldRequestError";
    this.code = code;
    this.param = param;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
