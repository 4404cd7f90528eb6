/**
 * A local HTTP server speaking the stackAI flow-run contract, for tests of the client
 * and of every service that asks a flow (`@pw/stackai/test-server`; test code only):
 * `POST /inference/v0/run/{orgId}/{flowId}` with `Authorization: Bearer <apiKey>`.
 *
 * Script its answers with `reply(...)` (first in, first out): an output (under
 * `outputs` or at the top level), any status with a FastAPI-style error body (422
 * `detail` list, 429 with `Retry-After`, 5xx), a raw or malformed body, a slow answer or
 * one that never comes. Unscripted calls get a 503, so a test never passes on an answer
 * it did not mean to give; a wrong key gets a 401 and uses up no scripted answer.
 */
import { createServer } from "node:http";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createStackAiClient, type StackAiClient, type StackAiOptions } from "./client.ts";

export type ScriptedReply = {
  /** HTTP status (default 200). A non-200 without `body` gets a FastAPI-style error body. */
  status?: number;
  /** `out-0`: an object is sent as its JSON string, a string as is. */
  out0?: unknown;
  /** Put `out-0` at the top level instead of under `outputs`. */
  topLevel?: boolean;
  /** Flow state (default COMPLETED). */
  state?: string;
  /** Raw response body; overrides out0/state (e.g. `"<html>oops"` for a malformed answer). */
  body?: string;
  /** `Retry-After` header value; a 429 sends `"0"` unless told otherwise. */
  retryAfter?: string;
  /** Answer after this long. */
  delayMs?: number;
  /** Never answer (the connection is cut when the server closes). */
  hang?: boolean;
};

export type RecordedRun = {
  orgId: string;
  flowId: string;
  authorization: string | undefined;
  userId: unknown;
  /** `in-0` decoded. */
  input: unknown;
  /** `Date.now()` when the request arrived. */
  at: number;
};

/** What FastAPI answers when the request body fails validation. */
export const FASTAPI_422 = JSON.stringify({
  detail: [{ loc: ["body", "in-0"], msg: "field required", type: "value_error.missing" }],
});

function errorBody(status: number): string {
  if (status === 422) return FASTAPI_422;
  if (status === 429) return JSON.stringify({ detail: "Rate limit exceeded" });
  return JSON.stringify({ detail: `error ${status}` });
}

function decodeInput(in0: unknown): unknown {
  if (typeof in0 !== "string") return in0;
  try {
    return JSON.parse(in0);
  } catch {
    return in0;
  }
}

export async function startStackAiServer(settings: { apiKey?: string } = {}) {
  const apiKey = settings.apiKey ?? "sk-test";
  const script: ScriptedReply[] = [];
  const runs: RecordedRun[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const m = /^\/inference\/v0\/run\/([^/]+)\/([^/?]+)/.exec(req.url ?? "");
      const send = (status: number, body: string, headers: Record<string, string> = {}) =>
        res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);
      if (req.method !== "POST" || !m) return send(404, '{"detail":"Not Found"}');
      if (req.headers.authorization !== `Bearer ${apiKey}`)
        return send(401, '{"detail":"Invalid API key"}');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw || "{}");
      } catch {
        return send(422, FASTAPI_422);
      }
      runs.push({
        orgId: decodeURIComponent(m[1]!),
        flowId: decodeURIComponent(m[2]!),
        authorization: req.headers.authorization,
        userId: body.user_id,
        input: decodeInput(body["in-0"]),
        at: Date.now(),
      });
      const r = script.shift() ?? { status: 503, body: '{"detail":"no scripted reply"}' };
      // In flight until answered or until the client gives up on it.
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      let open = true;
      const settle = () => {
        if (open) inFlight--;
        open = false;
      };
      res.on("close", settle);
      if (r.hang) return;
      const status = r.status ?? 200;
      const out0 = typeof r.out0 === "string" ? r.out0 : JSON.stringify(r.out0);
      const payload =
        r.body ??
        (status !== 200
          ? errorBody(status)
          : JSON.stringify({
              ...(r.topLevel ? { "out-0": out0 } : { outputs: { "out-0": out0 } }),
              run_id: `run-${runs.length}`,
              state: r.state ?? "COMPLETED",
              error: null,
            }));
      const retryAfter = r.retryAfter ?? (status === 429 ? "0" : undefined);
      setTimeout(() => {
        settle();
        if (res.destroyed) return;
        send(status, payload, retryAfter === undefined ? {} : { "retry-after": retryAfter });
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  return {
    url,
    apiKey,
    /** Every call received, in order. */
    runs,
    /** Most requests held open at once (not yet answered) since the last reset. */
    get peakInFlight() {
      return peakInFlight;
    },
    /** Queues the next answers. */
    reply(...replies: ScriptedReply[]) {
      script.push(...replies);
    },
    /** Forgets scripted answers, recorded calls and the peak. */
    reset() {
      script.length = 0;
      runs.length = 0;
      peakInFlight = inFlight;
    },
    /** Client options pointing at this server for `flowId` (fast timeouts for tests). */
    options(flowId: string, o: Partial<StackAiOptions> = {}): StackAiOptions {
      return {
        baseUrl: url,
        apiKey,
        orgId: "org-test",
        flowId,
        timeoutMs: 300,
        maxRetries: 1,
        ...o,
      };
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
export type StackAiTestServer = Awaited<ReturnType<typeof startStackAiServer>>;

/**
 * One server per test file for flow `flowId`: started before the tests, its script
 * and calls forgotten after each, closed (with every client made) at the end.
 */
export function useStackAiServer(flowId: string) {
  let server: StackAiTestServer;
  const clients: StackAiClient[] = [];
  beforeAll(async () => {
    server = await startStackAiServer();
  });
  afterEach(() => server.reset());
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });
  return {
    reply: (...replies: ScriptedReply[]) => server.reply(...replies),
    /** Every call received since the last test, in order. */
    get runs() {
      return server.runs;
    },
    /** The server itself (its URL, peak concurrency, …). */
    get server() {
      return server;
    },
    /** A client for this flow on this server (fast timeouts; override any option). */
    client(o: Partial<StackAiOptions> = {}): StackAiClient {
      const c = createStackAiClient(server.options(flowId, o));
      clients.push(c);
      return c;
    },
  };
}
