/**
 * Replays NDJSON files of webhook bodies through the same path as live traffic
 * (signature, validation, dedupe, 202 after the broker ack). Each line gets a
 * webhook-id derived from the file's content hash and line number, so replaying
 * the same file twice publishes nothing the second time. A 503 (broker or database
 * unavailable) is retried, waiting what its Retry-After asks.
 */
import { createHash } from "node:crypto";
import { retryAfterMs, retrying } from "@pw/resilience";
import { signed } from "./sign-request.ts";

export type ReplaySummary = {
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: { line: number; status: number; message: string }[];
};

type Injectable = {
  inject(req: {
    method: "POST";
    url: string;
    payload: string | Buffer;
    headers: Record<string, string>;
  }): Promise<InjectResponse>;
};
type InjectResponse = {
  statusCode: number;
  body: string;
  headers?: Record<string, string | string[] | number | undefined>;
};

/** A 503 answer, thrown so that `retrying` tries the line again. */
class Unavailable extends Error {
  readonly response: InjectResponse;
  readonly retryAfterMs?: number;
  constructor(response: InjectResponse) {
    super("ingest answered 503");
    this.response = response;
    const header = response.headers?.["retry-after"];
    this.retryAfterMs = retryAfterMs(typeof header === "number" ? String(header) : header);
  }
}

/** Without a Retry-After: full jitter under 1 s, 2 s, 4 s, then 5 s. */
const BACKOFF = { initialMs: 1_000, maxMs: 5_000 };

export async function replay(
  app: Injectable,
  text: string,
  opts: {
    route: "lightfield" | "signals" | "outcomes";
    secret: string;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<ReplaySummary> {
  const fileHash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const lines = text
    .split("\n")
    .map((l, i) => ({ n: i + 1, body: l.trim() }))
    .filter((l) => l.body.length > 0);
  const summary: ReplaySummary = { lines: lines.length, accepted: 0, duplicates: 0, rejected: [] };
  let next = 0;
  let done = 0;
  async function worker() {
    while (next < lines.length) {
      const line = lines[next++]!;
      const res = await retrying(
        async () => {
          const res = await app.inject(
            signed(`/webhooks/${opts.route}`, line.body, {
              secret: opts.secret,
              id: `replay_${fileHash}_${line.n}`,
            }),
          );
          if (res.statusCode === 503) throw new Unavailable(res);
          return res;
        },
        { attempts: 6, backoff: BACKOFF, retryable: (e) => e instanceof Unavailable },
      ).catch((error: unknown) => {
        // Still unavailable after the last attempt: report the line as rejected with 503.
        if (error instanceof Unavailable) return error.response;
        throw error;
      });
      if (res.statusCode === 202) summary.accepted++;
      else if (res.statusCode === 200) summary.duplicates++;
      else
        summary.rejected.push({
          line: line.n,
          status: res.statusCode,
          message: describe(res.body),
        });
      opts.onProgress?.(++done, lines.length);
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? 16 }, worker));
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

function describe(body: string): string {
  try {
    const e = JSON.parse(body).error;
    const issues = (e.issues ?? [])
      .map((i: { path: string; message: string }) => `${i.path}: ${i.message}`)
      .join("; ");
    return issues ? `${e.message} (${issues})` : e.message;
  } catch {
    return body.slice(0, 200);
  }
}
