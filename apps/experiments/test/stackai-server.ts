/**
 * A local HTTP server speaking the stackAI flow-run contract, for tests of the
 * flows experiments uses (copy rewrite, reply intent). Script its answers with
 * `reply(...)` (first in, first out); unscripted calls get a 503 so a test
 * never passes on an answer it did not mean to give.
 */
import { createServer } from "node:http";
import { createStackAiClient, type StackAiClient, type StackAiOptions } from "@pw/stackai";
import { afterAll, afterEach, beforeAll } from "vitest";

export type ScriptedReply = {
  /** HTTP status (default 200). */
  status?: number;
  /** `out-0`: an object is sent as its JSON string, a string as is. */
  out0?: unknown;
  /** Put `out-0` at the top level instead of under `outputs`. */
  topLevel?: boolean;
  /** Flow state (default COMPLETED). */
  state?: string;
  /** Raw response body; overrides out0/state. */
  body?: string;
  /** Answer after this long. */
  delayMs?: number;
};

export type RecordedRun = {
  orgId: string;
  flowId: string;
  authorization: string | undefined;
  userId: unknown;
  /** `in-0` decoded. */
  input: unknown;
};

export async function startStackAiServer() {
  const script: ScriptedReply[] = [];
  const runs: RecordedRun[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const m = /^\/inference\/v0\/run\/([^/]+)\/([^/?]+)/.exec(req.url ?? "");
      if (req.method !== "POST" || !m) {
        res.writeHead(404).end('{"detail":"not found"}');
        return;
      }
      const body = JSON.parse(raw || "{}") as Record<string, unknown>;
      runs.push({
        orgId: decodeURIComponent(m[1]!),
        flowId: decodeURIComponent(m[2]!),
        authorization: req.headers.authorization,
        userId: body.user_id,
        input: typeof body["in-0"] === "string" ? JSON.parse(body["in-0"]) : body["in-0"],
      });
      const r = script.shift() ?? { status: 503, body: '{"detail":"no scripted reply"}' };
      const out0 = typeof r.out0 === "string" ? r.out0 : JSON.stringify(r.out0);
      const payload =
        r.body ??
        JSON.stringify({
          ...(r.topLevel ? { "out-0": out0 } : { outputs: { "out-0": out0 } }),
          run_id: `run-${runs.length}`,
          state: r.state ?? "COMPLETED",
          error: null,
        });
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, {
          "content-type": "application/json",
          ...(r.status === 429 ? { "retry-after": "0" } : {}),
        });
        res.end(payload);
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  return {
    url,
    /** Every call received, in order. */
    runs,
    /** Queues the next answers. */
    reply(...replies: ScriptedReply[]) {
      script.push(...replies);
    },
    /** Forgets scripted answers and recorded calls. */
    reset() {
      script.length = 0;
      runs.length = 0;
    },
    /** Client options pointing at this server for `flowId` (fast timeouts for tests). */
    options(flowId: string, o: Partial<StackAiOptions> = {}): StackAiOptions {
      return {
        baseUrl: url,
        apiKey: "sk-test",
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
    /** A client for this flow on this server (fast timeouts; override any option). */
    client(o: Partial<StackAiOptions> = {}): StackAiClient {
      const c = createStackAiClient(server.options(flowId, o));
      clients.push(c);
      return c;
    },
  };
}
