// A local HTTP server that speaks Lightfield's list contract (auth, version
// header, limit ≤ 25 / offset, $updatedAt[gte] filter, error bodies, 429 with
// Retry-After, 5xx) — with faults that tests can inject.
import { createServer, type Server } from "node:http";
import type { LightfieldRecord } from "@pw/events";

export type Fault = { status: number; retryAfter?: string; body?: unknown };

export async function startLightfieldServer(apiKey: string) {
  const records = new Map<string, LightfieldRecord[]>();
  const faults: Fault[] = [];
  const requests: { at: number; path: string; query: URLSearchParams }[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push({ at: Date.now(), path: url.pathname, query: url.searchParams });
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, param?: string) =>
      send(status, { error: { type, message, code: type, ...(param ? { param } : {}) } });
    if (req.headers.authorization !== `Bearer ${apiKey}`)
      return error(401, "authentication_error", "invalid API key");
    if (req.headers["lightfield-version"] !== "2026-03-01")
      return error(400, "invalid_request_error", "unsupported version", "Lightfield-Version");
    const fault = faults.shift();
    if (fault) {
      res.writeHead(fault.status, {
        "content-type": "application/json",
        ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}),
      });
      return res.end(
        JSON.stringify(
          fault.body ?? {
            error: {
              type: fault.status === 429 ? "rate_limit_error" : "api_error",
              message: "injected",
            },
          },
        ),
      );
    }
    const match = /^\/v1\/([a-z]+)$/.exec(url.pathname);
    if (!match || req.method !== "GET") return error(404, "not_found", "no such endpoint");
    const limit = Number(url.searchParams.get("limit") ?? 25);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 25)
      return error(400, "invalid_request_error", "limit must be 1..25", "limit");
    const since = url.searchParams.get("$updatedAt[gte]");
    const all = (records.get(match[1]!) ?? [])
      .filter((r) => !since || (r.updatedAt ?? "") >= since)
      .sort(
        (a, b) => (a.updatedAt ?? "").localeCompare(b.updatedAt ?? "") || a.id.localeCompare(b.id),
      );
    const data = all.slice(offset, offset + limit);
    send(200, { data, hasMore: offset + limit < all.length });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    faults,
    requests,
    upsert(type: string, record: LightfieldRecord) {
      const list = (records.get(type) ?? []).filter((r) => r.id !== record.id);
      list.push(record);
      records.set(type, list);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
