// Builds a signed Standard Webhooks request as a sender would (replay, tests, benchmarks).
import { randomUUID } from "node:crypto";
import { signWebhook } from "./verify.ts";

export type SignOptions = {
  secret: string;
  id?: string;
  timestamp?: number;
  headers?: Record<string, string | undefined>;
  contentType?: string;
};

export function signed(path: string, body: string | Buffer, o: SignOptions) {
  const id = o.id ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const text = typeof body === "string" ? body : body.toString();
  const headers: Record<string, string> = {
    "content-type": o.contentType ?? "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signWebhook(o.secret, id, timestamp, text),
  };
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { method: "POST" as const, url: path, payload: body, headers, id };
}
