/**
 * One JSON POST to a webhook (undici, pooled connections, a deadline per call) and the
 * verdict on its answer, shared by the Slack and in-app drivers: 2xx delivered; 408, 425,
 * 429 and 5xx transient (Retry-After honoured); any other status permanent; no answer in
 * time or no connection at all transient.
 */
import { retryAfterMs, TimeoutError, withTimeout } from "@pw/resilience";
import { Agent, request } from "undici";
import { PermanentDriverError, TransientDriverError } from "./types.ts";

/** We read this much of an answer at most: enough for an id or an error text. */
const MAX_ANSWER_BYTES = 64 * 1024;

export type WebhookAnswer = { status: number; text: string };

export type WebhookPoster = {
  /** Resolves with a 2xx answer; throws a DriverError otherwise. */
  post(
    url: string,
    body: unknown,
    options?: { headers?: Record<string, string>; what?: string },
  ): Promise<WebhookAnswer>;
  close(): Promise<void>;
};

const TRANSIENT_STATUSES = new Set([408, 425, 429]);

export function createWebhookPoster(options: {
  timeoutMs: number;
  connections?: number;
}): WebhookPoster {
  const dispatcher = new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 10_000,
  });
  return {
    async post(url, body, { headers = {}, what = "webhook" } = {}) {
      let answer: WebhookAnswer & { retryAfter: string | string[] | undefined };
      try {
        answer = await withTimeout(async (signal) => {
          const res = await request(url, {
            method: "POST",
            dispatcher,
            signal,
            headers: { "content-type": "application/json", ...headers },
            body: JSON.stringify(body),
            headersTimeout: options.timeoutMs,
            bodyTimeout: options.timeoutMs,
          });
          return {
            status: res.statusCode,
            text: await readCapped(res.body),
            retryAfter: res.headers["retry-after"],
          };
        }, options.timeoutMs);
      } catch (error) {
        if (error instanceof TimeoutError)
          throw new TransientDriverError(`${what} gave no answer within ${options.timeoutMs} ms`, {
            cause: error,
          });
        throw new TransientDriverError(`${what} unreachable: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const { status, text } = answer;
      if (status >= 200 && status < 300) return { status, text };
      const detail = `${what} answered ${status}${text ? `: ${text.slice(0, 200)}` : ""}`;
      if (status >= 500 || TRANSIENT_STATUSES.has(status)) {
        const wait = retryAfterMs(answer.retryAfter);
        throw new TransientDriverError(detail, wait === undefined ? {} : { retryAfterMs: wait });
      }
      throw new PermanentDriverError(detail);
    },
    close: () => dispatcher.close(),
  };
}

type Body = Awaited<ReturnType<typeof request>>["body"];

async function readCapped(body: Body): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}
