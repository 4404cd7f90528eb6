/**
 * The dashboard's API is the gateway's, proxied from this origin: the browser talks to
 * one origin only, so the gateway's session cookie stays `SameSite=Strict` and no CORS is
 * needed. The live stream passes through unbuffered (no compression, the body streamed).
 *
 * The gateway refuses a non-GET request whose `Origin` is not its own host; behind this
 * proxy it cannot see the browser's host, so the same rule is applied here — an `Origin`
 * that is present and not this host is a 403 — and the header is not forwarded. The CSRF
 * token check stays the gateway's.
 */
import type { NextRequest } from "next/server";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** Request headers the gateway needs; everything else (Host, Origin, …) stays here. */
const FORWARD = ["accept", "content-type", "cookie", "last-event-id", "x-csrf-token"];
/** Response headers the browser needs. */
const RETURN = ["cache-control", "content-type", "retry-after", "www-authenticate", "location"];

function gatewayUrl(): string {
  return process.env.GATEWAY_URL ?? "http://127.0.0.1:4000";
}

function sameOrigin(origin: string, host: string | null): boolean {
  try {
    const from = new URL(origin);
    return host !== null && from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });

async function proxy(req: NextRequest, ctx: { params: Promise<{ path: string[] }> }) {
  const { path } = await ctx.params;
  const unsafe = req.method !== "GET" && req.method !== "HEAD";
  const origin = req.headers.get("origin");
  if (unsafe && origin !== null && !sameOrigin(origin, req.headers.get("host")))
    return json(403, { error: "origin", message: "cross-origin requests are refused" });

  const target = new URL(
    `/api/${path.map((p) => encodeURIComponent(p)).join("/")}${req.nextUrl.search}`,
    gatewayUrl(),
  );
  const headers = new Headers();
  for (const name of FORWARD) {
    const value = req.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const client = req.headers.get("x-forwarded-for");
  if (client) headers.set("x-forwarded-for", client);

  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: req.method,
      headers,
      body: unsafe ? await req.arrayBuffer() : undefined,
      redirect: "manual",
      cache: "no-store",
      signal: req.signal,
    });
  } catch (error) {
    return json(502, {
      error: "gateway_unreachable",
      message: `the gateway at ${target.origin} did not answer (${(error as Error).message}); is it running?`,
    });
  }
  const out = new Headers();
  for (const name of RETURN) {
    const value = upstream.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  for (const cookie of upstream.headers.getSetCookie()) out.append("set-cookie", cookie);
  if (upstream.headers.get("content-type")?.startsWith("text/event-stream"))
    out.set("x-accel-buffering", "no");
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

export const GET = proxy;
export const POST = proxy;
export const PUT = proxy;
export const PATCH = proxy;
export const DELETE = proxy;
