/**
 * A local HTTP server speaking Sentry's envelope endpoint, for tests (test code only):
 * `POST /api/<project>/envelope/` with a JSON header line, then per item a JSON item
 * header line and its payload (`length` when given, else up to the next newline), gzip
 * when the body says so. It keeps each envelope's raw text — what a privacy test greps —
 * and its parsed items (`event`, `span`, `log`, `trace_metric`, …).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export type EnvelopeItem = { type: string; header: Record<string, unknown>; payload: unknown };
export type Envelope = { header: Record<string, unknown>; items: EnvelopeItem[]; raw: string };

/** Parses one envelope body (already decompressed). */
export function parseEnvelope(body: Buffer): Envelope {
  let at = 0;
  const line = () => {
    const end = body.indexOf(0x0a, at);
    const text = body.subarray(at, end === -1 ? body.length : end).toString("utf8");
    at = end === -1 ? body.length : end + 1;
    return text;
  };
  const header = JSON.parse(line()) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (at < body.length) {
    const head = line();
    if (!head.trim()) continue;
    const itemHeader = JSON.parse(head) as Record<string, unknown>;
    let payload: string;
    if (typeof itemHeader.length === "number") {
      payload = body.subarray(at, at + itemHeader.length).toString("utf8");
      at += itemHeader.length;
      if (body[at] === 0x0a) at++;
    } else payload = line();
    let parsed: unknown = payload;
    try {
      parsed = JSON.parse(payload);
    } catch {
      // Attachments and other binary items stay text.
    }
    items.push({ type: String(itemHeader.type), header: itemHeader, payload: parsed });
  }
  return { header, items, raw: body.toString("utf8") };
}

export async function startSentryCollector() {
  const envelopes: Envelope[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || !/^\/api\/\d+\/envelope\/?/.test(req.url ?? "")) {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip" || (body[0] === 0x1f && body[1] === 0x8b))
        body = gunzipSync(body);
      try {
        envelopes.push(parseEnvelope(body));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    /** A DSN for project 1 pointing here. */
    dsn: `http://public@127.0.0.1:${port}/1`,
    envelopes,
    /** Every item of `type` received so far. */
    items(type: string): EnvelopeItem[] {
      return envelopes.flatMap((e) => e.items.filter((i) => i.type === type));
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
export type SentryCollector = Awaited<ReturnType<typeof startSentryCollector>>;
