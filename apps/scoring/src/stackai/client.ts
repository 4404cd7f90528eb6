/**
 * stackAI flow client (undici): `POST {base}/inference/v0/run/{orgId}/{flowId}`,
 * Bearer key, body `{"user_id": leadId, "in-0": "<lead JSON>"}`, answer
 * `{"outputs":{"out-0":"…"},"run_id","state":"COMPLETED","error":null}` (`out-0`
 * also accepted at the top level). The flow's output must be JSON we validate;
 * anything else is an error the caller turns into the built-in score.
 *
 * Guard rails so a slow or failing vendor never stalls scoring: a per-call
 * timeout, bounded retries with jittered backoff on 429/5xx, a concurrency
 * limit, and a circuit breaker that fails fast while the vendor is down.
 */
import { Tier } from "@pw/events";
import { Agent, request } from "undici";
import { z } from "zod";

export const FlowOutput = z.object({
  score: z.number().min(0).max(100),
  tier: Tier,
  segment: z.string().min(1).max(100),
  reasons: z
    .array(
      z.union([
        z.string().min(1).max(300),
        z.object({ label: z.string().min(1).max(300), contribution: z.number().optional() }),
      ]),
    )
    .max(20),
  message: z.string().max(5_000).optional(),
});
export type FlowOutput = z.infer<typeof FlowOutput>;

const RunResponse = z.object({
  outputs: z.record(z.string(), z.unknown()).optional(),
  "out-0": z.unknown().optional(),
  run_id: z.string().optional(),
  state: z.string().optional(),
  error: z.unknown().optional(),
});

export class StackAiError extends Error {
  /** Short machine reason recorded as the fallback reason: timeout, http_429, invalid_output… */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = "StackAiError";
    this.reason = reason;
  }
}

export type StackAiOptions = {
  baseUrl: string;
  apiKey: string;
  orgId: string;
  flowId: string;
  timeoutMs?: number;
  maxRetries?: number;
  concurrency?: number;
  breaker?: { failureThreshold: number; cooldownMs: number };
  now?: () => number;
};

export type BreakerState = "closed" | "open" | "half_open";

export function createStackAiClient(options: StackAiOptions) {
  const timeoutMs = options.timeoutMs ?? 2_000;
  const maxRetries = options.maxRetries ?? 2;
  const concurrency = options.concurrency ?? 8;
  const breakerCfg = options.breaker ?? { failureThreshold: 5, cooldownMs: 30_000 };
  const now = options.now ?? Date.now;
  const dispatcher = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  const url = new URL(
    `/inference/v0/run/${encodeURIComponent(options.orgId)}/${encodeURIComponent(options.flowId)}`,
    options.baseUrl,
  );

  let active = 0;
  const waiting: (() => void)[] = [];
  let failures = 0;
  let openedAt = 0;
  let state: BreakerState = "closed";
  let probing = false;

  function breakerState(): BreakerState {
    if (state === "open" && now() - openedAt >= breakerCfg.cooldownMs) state = "half_open";
    return state;
  }
  function success() {
    failures = 0;
    state = "closed";
  }
  function failure() {
    failures++;
    if (state === "half_open" || failures >= breakerCfg.failureThreshold) {
      state = "open";
      openedAt = now();
    }
  }

  async function acquire() {
    if (active < concurrency) {
      active++;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
  }
  function release() {
    active--;
    waiting.shift()?.();
  }

  async function once(leadId: string, lead: unknown): Promise<FlowOutput> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: "POST",
        dispatcher,
        headers: { authorization: `Bearer ${options.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ user_id: leadId, "in-0": JSON.stringify(lead) }),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new StackAiError(
        /Timeout|Abort/i.test(name) ? "timeout" : "network",
        `stackAI request failed: ${(error as Error).message}`,
      );
    }
    const text = await res.body.text().catch(() => "");
    if (res.statusCode !== 200)
      throw new StackAiError(
        `http_${res.statusCode}`,
        `stackAI answered ${res.statusCode}: ${text.slice(0, 200)}`,
      );
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
    let parsedOut: unknown = out;
    if (typeof out === "string") {
      try {
        parsedOut = JSON.parse(out.replace(/^```(?:json)?\s*|\s*```$/g, ""));
      } catch {
        throw new StackAiError("invalid_output", "stackAI out-0 is not JSON");
      }
    }
    const flow = FlowOutput.safeParse(parsedOut);
    if (!flow.success) {
      const issue = flow.error.issues[0];
      throw new StackAiError(
        "invalid_output",
        `stackAI out-0 fails validation at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
      );
    }
    return flow.data;
  }

  const retriable = (e: StackAiError) =>
    e.reason === "http_429" || /^http_5/.test(e.reason) || e.reason === "network";

  return {
    breakerState,
    async score(leadId: string, lead: unknown): Promise<FlowOutput> {
      const s = breakerState();
      if (s === "open") throw new StackAiError("circuit_open", "stackAI circuit breaker is open");
      if (s === "half_open") {
        if (probing)
          throw new StackAiError(
            "circuit_open",
            "stackAI circuit breaker is half-open (probe in flight)",
          );
        probing = true;
      }
      await acquire();
      try {
        for (let attempt = 0; ; attempt++) {
          try {
            const out = await once(leadId, lead);
            success();
            return out;
          } catch (error) {
            const e = error as StackAiError;
            if (s !== "half_open" && retriable(e) && attempt < maxRetries) {
              await new Promise((r) =>
                setTimeout(r, Math.min(1_000, 100 * 2 ** attempt) * (0.5 + Math.random())),
              );
              continue;
            }
            failure();
            throw e;
          }
        }
      } finally {
        if (s === "half_open") probing = false;
        release();
      }
    },
    close: () => dispatcher.close(),
  };
}
export type StackAiClient = ReturnType<typeof createStackAiClient>;
