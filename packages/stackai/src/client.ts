/**
 * stackAI flow client (undici), shared by every service that asks a flow:
 * `POST {base}/inference/v0/run/{orgId}/{flowId}`, Bearer key, body
 * `{"user_id": <id>, "in-0": "<input JSON>"}`, answer
 * `{"outputs":{"out-0":"…"},"run_id","state":"COMPLETED","error":null}` (`out-0`
 * also accepted at the top level). `out-0` must be JSON (markdown ```json fences
 * tolerated) that passes the caller's zod schema; anything else is a
 * `StackAiError` the caller turns into its local fallback.
 *
 * Vendor output is hostile input: the body is read up to `maxResponseBytes` (1 MiB)
 * and dropped beyond it, and `out-0` is unwrapped by plain string scanning — no
 * backtracking regex ever runs over what the vendor sent.
 *
 * Guard rails so a slow or failing vendor never stalls a service (all from
 * `@pw/resilience`): a per-attempt timeout, bounded retries with jittered backoff on
 * 429/5xx/network errors that wait what a 429/503's `Retry-After` asks (within
 * `maxRetryAfterMs`), a concurrency limit, and a circuit breaker that fails fast while
 * the vendor is down. A client is bound to one flow, so a flow that misbehaves (e.g.
 * returns invalid output) opens only its own breaker.
 */
import {
  type BreakerState,
  CircuitOpenError,
  createCircuitBreaker,
  retryAfterMs,
  retrying,
  TimeoutError,
  withTimeout,
} from "@pw/resilience";
import { Agent, request } from "undici";
import { z } from "zod";

export type { BreakerState };

const RunResponse = z.object({
  outputs: z.record(z.string(), z.unknown()).optional(),
  "out-0": z.unknown().optional(),
  run_id: z.string().optional(),
  state: z.string().optional(),
  error: z.unknown().optional(),
});

export class StackAiError extends Error {
  /**
   * Short machine reason recorded as the fallback reason: `timeout`, `network`,
   * `http_<status>`, `malformed_response`, `response_too_large`, `flow_not_completed`,
   * `missing_output`, `invalid_output`, `circuit_open`.
   */
  readonly reason: string;
  /** What the vendor's `Retry-After` asked on a 429/503, in ms; retries wait this long. */
  readonly retryAfterMs?: number;
  constructor(reason: string, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "StackAiError";
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The machine reason of any error thrown by a client call (`error` when it is not a StackAiError). */
export function reasonOf(error: unknown): string {
  return error instanceof StackAiError ? error.reason : "error";
}

export type StackAiOptions = {
  baseUrl: string;
  apiKey: string;
  orgId: string;
  flowId: string;
  /** Per attempt: connect + headers + body. Default 2 s. */
  timeoutMs?: number;
  /** Retries after the first attempt on 429, 5xx and network errors (not on timeouts). Default 2. */
  maxRetries?: number;
  /**
   * A 429/503 whose `Retry-After` asks for a longer wait is not retried: the call fails
   * at once and the caller falls back. Default 5 s.
   */
  maxRetryAfterMs?: number;
  /** Calls in flight at once; the rest wait their turn. Default 8. */
  concurrency?: number;
  /** Default: 5 consecutive failures open it for 30 s, then one probe decides. */
  breaker?: { failureThreshold: number; cooldownMs: number };
  /** Larger answers are refused (`response_too_large`) without reading on. Default 1 MiB. */
  maxResponseBytes?: number;
};

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/** Backoff between retries (full jitter): under 200 ms, then under 400 ms, … at most 2 s. */
const BACKOFF = { initialMs: 200, maxMs: 2_000 };

const FENCE = "```";

/**
 * `out-0` without a markdown fence around it (```json … ``` or ``` … ```), by
 * scanning: `trim` and `startsWith`/`endsWith` are linear whatever the input, where
 * a regex like /\s*```$/ backtracks quadratically over a long run of spaces.
 */
function unfence(text: string): string {
  let s = text.trim();
  if (s.startsWith(FENCE)) {
    s = s.slice(FENCE.length);
    if (s.slice(0, 4).toLowerCase() === "json") s = s.slice(4);
  }
  if (s.endsWith(FENCE)) s = s.slice(0, -FENCE.length);
  return s.trim();
}

/** Parses `out-0`: a JSON string (optionally in a markdown ```json fence) or an already-decoded value. */
function decodeOutput(out: unknown): unknown {
  if (typeof out !== "string") return out;
  try {
    return JSON.parse(unfence(out));
  } catch {
    throw new StackAiError("invalid_output", "stackAI out-0 is not JSON");
  }
}

type Body = Awaited<ReturnType<typeof request>>["body"];

/**
 * The body as text, reading at most `limit` bytes: a larger body (announced or not)
 * is abandoned — the stream destroyed, so the connection is dropped rather than drained.
 */
async function readCapped(
  body: Body,
  contentLength: string | string[] | undefined,
  limit: number,
): Promise<{ text: string; tooLarge: boolean }> {
  const announced = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
  if (Number.isFinite(announced) && announced > limit) {
    body.destroy();
    return { text: "", tooLarge: true };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      body.destroy();
      return { text: Buffer.concat(chunks).toString("utf8"), tooLarge: true };
    }
    chunks.push(buf);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), tooLarge: false };
}

export function createStackAiClient(options: StackAiOptions) {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5_000;
  const concurrency = options.concurrency ?? 8;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const breaker = createCircuitBreaker(
    options.breaker ?? { failureThreshold: 5, cooldownMs: 30_000 },
  );
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const url = new URL(
    `/inference/v0/run/${encodeURIComponent(options.orgId)}/${encodeURIComponent(options.flowId)}`,
    options.baseUrl,
  );

  let active = 0;
  const waiting: (() => void)[] = [];

  async function acquire() {
    if (active < concurrency) {
      active++;
      return;
    }
    // The releasing call hands its slot over (active unchanged), so a caller
    // arriving in between cannot slip past the limit.
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  function release() {
    const next = waiting.shift();
    if (next) next();
    else active--;
  }

  async function once(userId: string, input: unknown, signal: AbortSignal): Promise<unknown> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: "POST",
        dispatcher,
        headers: { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: userId, "in-0": JSON.stringify(input) }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new StackAiError(
        /Timeout|Abort/i.test(name) ? "timeout" : "network",
        `stackAI request failed: ${(error as Error).message}`,
      );
    }
    const read = await readCapped(res.body, res.headers["content-length"], maxResponseBytes).then(
      (r) => ({ ...r, error: undefined }),
      (error: Error) => ({ text: "", tooLarge: false, error }),
    );
    if (res.statusCode !== 200)
      throw new StackAiError(
        `http_${res.statusCode}`,
        `stackAI answered ${res.statusCode}: ${read.text.slice(0, 200)}`,
        res.statusCode === 429 || res.statusCode === 503
          ? retryAfterMs(res.headers["retry-after"])
          : undefined,
      );
    if (read.error)
      // The answer timed out or the connection dropped half-way through it.
      throw new StackAiError(
        /Timeout|Abort/i.test(read.error.name) ? "timeout" : "network",
        `stackAI response failed: ${read.error.message}`,
      );
    if (read.tooLarge)
      throw new StackAiError(
        "response_too_large",
        `stackAI response is larger than ${maxResponseBytes} bytes; not read further`,
      );
    const text = read.text;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new StackAiError("malformed_response", "stackAI response is not JSON");
    }
    const run = RunResponse.safeParse(body);
    if (!run.success)
      throw new StackAiError("malformed_response", "stackAI response has an unexpected shape");
    if (run.data.state && run.data.state !== "COMPLETED")
      throw new StackAiError("flow_not_completed", `stackAI flow state ${run.data.state}`);
    const out = run.data.outputs?.["out-0"] ?? run.data["out-0"];
    if (out === undefined)
      throw new StackAiError("missing_output", "stackAI response has no out-0");
    return out;
  }

  function validate<S extends z.ZodType>(out: unknown, schema: S): z.output<S> {
    const parsed = schema.safeParse(decodeOutput(out));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StackAiError(
        "invalid_output",
        `stackAI out-0 fails validation at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
      );
    }
    return parsed.data;
  }

  /** One attempt, bounded by the timeout (connect, headers and body together). */
  async function attempt(userId: string, input: unknown): Promise<unknown> {
    try {
      return await withTimeout((signal) => once(userId, input, signal), timeoutMs);
    } catch (error) {
      if (error instanceof TimeoutError)
        throw new StackAiError("timeout", `stackAI did not answer within ${timeoutMs} ms`);
      throw error;
    }
  }

  const retriable = (e: unknown) =>
    e instanceof StackAiError &&
    (e.reason === "http_429" || /^http_5/.test(e.reason) || e.reason === "network");

  return {
    breakerState: (): BreakerState => breaker.state(),
    /**
     * Runs the flow for `userId` with `input` (sent as JSON in `in-0`) and returns
     * `out-0` decoded and validated by `schema`. Throws a StackAiError otherwise;
     * an output that fails the schema counts as a failure for the breaker.
     */
    async run<S extends z.ZodType>(
      userId: string,
      input: unknown,
      schema: S,
    ): Promise<z.output<S>> {
      try {
        return await breaker.execute(async () => {
          // The probe of a half-open breaker asks once: its answer decides.
          const probe = breaker.state() === "half_open";
          await acquire();
          try {
            return await retrying(async () => validate(await attempt(userId, input), schema), {
              attempts: probe ? 1 : maxRetries + 1,
              backoff: BACKOFF,
              retryable: retriable,
              maxRetryAfterMs,
            });
          } finally {
            release();
          }
        });
      } catch (error) {
        if (error instanceof StackAiError) throw error;
        if (error instanceof CircuitOpenError)
          throw new StackAiError("circuit_open", `stackAI ${error.message}`);
        throw new StackAiError("error", (error as Error).message);
      }
    },
    close: (): Promise<void> => dispatcher.close(),
  };
}
export type StackAiClient = ReturnType<typeof createStackAiClient>;
