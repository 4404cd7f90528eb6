/**
 * For tests: a stand-in ingest on a real socket that records each request (webhook-id,
 * signature, body, arrival time) and answers what the test says, per webhook-id attempt.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const TEST_SECRET = "whsec_c2VlZC10ZXN0LXNlY3JldC1zZWVkLXRlc3Q=";

export type Seen = { id: string; signature: string; timestamp: string; body: string; at: number };
export type Answer = {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Answer only after this long (a hung ingest); `onDelay` gets a function that answers now. */
  delayMs?: number;
  onDelay?: (release: () => void) => void;
};

/** An HTTP server answering each request with `answer(request, attempt of its webhook-id)`. */
export async function stubIngest(answer: (seen: Seen, attempt: number) => Answer) {
  const seen: Seen[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const s: Seen = {
      id: String(req.headers["webhook-id"]),
      signature: String(req.headers["webhook-signature"]),
      timestamp: String(req.headers["webhook-timestamp"]),
      body,
      at: Date.now(),
    };
    seen.push(s);
    const a = answer(s, seen.filter((x) => x.id === s.id).length);
    if (a.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, a.delayMs);
        a.onDelay?.(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed || req.socket.destroyed) return;
    }
    res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
    res.end(JSON.stringify(a.body ?? {}));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url, seen, close };
}
