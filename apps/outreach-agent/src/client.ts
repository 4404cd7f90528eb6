/**
 * The agent over HTTP (undici, pooled keep-alive connections): what dispatch uses when
 * TRUEFOUNDRY_AGENT_URL is set. `POST {url}/v1/dispatch` with `Authorization: Bearer` and
 * `Idempotency-Key`; the answer mapped onto the AgentPort contract:
 * - 202 → the DispatchResponse (unknown extra fields are dropped, not refused);
 * - 409, 429, 5xx, a timeout, no connection → AgentTransientError (Retry-After honoured):
 *   retrying the same key is safe, the agent sends at most once per key;
 * - 400, 401, 403, 422 and any other 4xx → AgentRejectedError: retrying cannot help.
 *
 * `hs256TokenProvider(secret, …)` mints and caches short-lived HS256 tokens for the
 * agent's AGENT_JWT_SECRET (the shared-secret setup).
 */
import type { Logger } from "@pw/logger";
import { retryAfterMs, TimeoutError, withTimeout } from "@pw/resilience";
import { SignJWT } from "jose";
import { Agent, request } from "undici";
import {
  AgentError,
  type AgentPort,
  AgentRejectedError,
  AgentTransientError,
  DispatchResponse,
} from "./contract.ts";

export type TokenProvider = () => string | Promise<string>;

export type AgentClientOptions = {
  /** The agent's base URL (a path prefix is kept), e.g. `https://agent.example.com`. */
  url: string;
  /** A static bearer token… */
  token?: string;
  /** …or a function that returns a current one (called per request; cache inside). */
  tokenProvider?: TokenProvider;
  /** Per request: connect, headers and body. Default 10 s. */
  timeoutMs?: number;
  /** Connections kept to the agent. Default 16. */
  connections?: number;
  logger?: Logger;
};

/** Used when a transient answer carries no Retry-After. */
const DEFAULT_RETRY_MS = 5_000;
const MAX_ANSWER_BYTES = 256 * 1024;

export function createAgentClient(options: AgentClientOptions): AgentPort {
  if (!options.token && !options.tokenProvider)
    throw new Error("createAgentClient: give a token or a tokenProvider");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const endpoint = `${options.url.replace(/\/+$/, "")}/v1/dispatch`;
  const dispatcher = new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 10_000,
    connect: { timeout: Math.min(timeoutMs, 10_000) },
  });
  const token: TokenProvider = options.tokenProvider ?? (() => options.token!);
  const log = options.logger?.child({ component: "agent-client" });

  async function call(body: unknown, key: string, bearer: string) {
    return withTimeout(async (signal) => {
      const res = await request(endpoint, {
        method: "POST",
        dispatcher,
        signal,
        headers: {
          authorization: `Bearer ${bearer}`,
          "idempotency-key": key,
          "content-type": "application/json",
          accept: "application/json",
        },
        body: JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      return {
        status: res.statusCode,
        retryAfter: res.headers["retry-after"],
        text: Buffer.concat(chunks).toString("utf8"),
      };
    }, timeoutMs);
  }

  return {
    async dispatch(body, key) {
      let bearer: string;
      try {
        bearer = await token();
      } catch (error) {
        throw new AgentTransientError(`no token for the agent: ${(error as Error).message}`);
      }
      let answer: Awaited<ReturnType<typeof call>>;
      try {
        answer = await call(body, key, bearer);
      } catch (error) {
        const reason =
          error instanceof TimeoutError
            ? `the agent gave no answer within ${timeoutMs} ms`
            : `the agent is unreachable: ${(error as Error).message}`;
        log?.warn({ reason }, "agent call failed");
        throw new AgentTransientError(reason);
      }
      const { status, text } = answer;
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (status === 202) {
        const parsed = DispatchResponse.safeParse(json);
        if (parsed.success) return parsed.data;
        // The agent took the request and may have sent it: retrying would only replay this
        // unreadable answer. A version mismatch to fix, not to retry.
        throw new AgentRejectedError(
          `the agent's 202 answer does not match the contract: ${parsed.error.issues[0]?.message}`,
          502,
          "malformed_response",
        );
      }
      const error = AgentError.safeParse(json);
      const code = error.success ? error.data.error.code : undefined;
      const message = error.success
        ? error.data.error.message
        : text.slice(0, 200) || `HTTP ${status}`;
      if (status === 409 || status === 429 || status === 408 || status >= 500) {
        const wait = retryAfterMs(answer.retryAfter) ?? DEFAULT_RETRY_MS;
        throw new AgentTransientError(
          status === 409 && code === "in_progress"
            ? "in_progress"
            : `agent answered ${status}${code ? ` ${code}` : ""}: ${message}`,
          wait,
        );
      }
      throw new AgentRejectedError(
        `agent answered ${status}${code ? ` ${code}` : ""}: ${message}`,
        status,
        code,
        error.success ? error.data.error.field : undefined,
      );
    },
    close: () => dispatcher.close(),
  };
}

/**
 * Short-lived HS256 tokens for an agent that verifies with AGENT_JWT_SECRET: minted on
 * first use and reused until a fifth of their life is left, so each request does not
 * sign anew and no token lives long.
 */
export function hs256TokenProvider(
  secret: string,
  options: { issuer?: string; audience?: string; subject?: string; ttlSec?: number } = {},
): TokenProvider {
  if (secret.length < 32) throw new Error("hs256TokenProvider: the secret needs 32+ characters");
  const key = new TextEncoder().encode(secret);
  const ttlSec = options.ttlSec ?? 300;
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    const nowMs = Date.now();
    if (cached && nowMs < cached.renewAt) return cached.token;
    const iat = Math.floor(nowMs / 1_000);
    let jwt = new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSec)
      .setSubject(options.subject ?? "dispatch");
    if (options.issuer) jwt = jwt.setIssuer(options.issuer);
    if (options.audience) jwt = jwt.setAudience(options.audience);
    const token = await jwt.sign(key);
    cached = { token, renewAt: nowMs + ttlSec * 800 };
    return token;
  };
}
