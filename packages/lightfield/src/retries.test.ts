// Which failures the client retries, how long it waits, when it gives up, and what the
// `onRequest` hook sees — measured on the contract server's side.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createLightfieldClient,
  type LightfieldClientOptions,
  type LightfieldRequestInfo,
} from "./client.ts";
import { LightfieldApiError, LightfieldNetworkError } from "./errors.ts";
import { accountFixture, type LightfieldServer, startLightfieldServer } from "./test-server.ts";

const KEY = "sk_lf_test_retries";
const NOTE = { title: "Sent", content: "Hello" };
const TOO_MANY = { type: "too_many_requests", message: "Rate limit exceeded" };

describe("Lightfield retries", () => {
  let server: LightfieldServer;
  beforeAll(async () => {
    server = await startLightfieldServer(KEY);
    server.upsert("accounts", accountFixture("acc_1"));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    server.settings.rateLimit = 25;
  });
  const client = (extra: Partial<LightfieldClientOptions> = {}) =>
    createLightfieldClient({
      baseUrl: server.url,
      apiKey: KEY,
      backoff: { initialMs: 20, maxMs: 50 },
      ...extra,
    });

  it("waits Retry-After after a 429 (unwrapped body), then succeeds", async () => {
    server.inject({ status: 429, retryAfter: "1", body: TOO_MANY, path: "/v1/notes" });
    const seen: LightfieldRequestInfo[] = [];
    const created = await client({ onRequest: (i) => seen.push(i) }).createNote(NOTE, {
      idempotencyKey: "n-429",
    });
    const [limited, ok] = server.requests;
    expect(limited!.status).toBe(429);
    expect(ok!.status).toBe(201);
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(1_000);
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([created.id]);
    expect(seen).toMatchObject([
      { operation: "createNote", category: "write", status: 429, attempt: 1 },
      { operation: "createNote", category: "write", status: 201, attempt: 2 },
    ]);
    expect(seen[1]!.waitedMs).toBeGreaterThanOrEqual(1_000);
  });

  it("cuts a long Retry-After to maxRetryAfterMs", async () => {
    server.inject({ status: 429, retryAfter: "3600", body: TOO_MANY, path: "/v1/notes" });
    await client({ maxRetryAfterMs: 300 }).createNote(NOTE, { idempotencyKey: "n-long" });
    const [limited, ok] = server.requests;
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(300);
    expect(ok!.at - limited!.at).toBeLessThan(5_000);
  });

  it("retries 5xx then succeeds", async () => {
    server.inject({ status: 503, path: "/v1/notes" });
    server.inject({ status: 502, path: "/v1/notes" });
    const created = await client().createNote(NOTE, { idempotencyKey: "n-5xx" });
    expect(server.requests.map((r) => r.status)).toEqual([503, 502, 201]);
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([created.id]);
  });

  it("a persistent 5xx ends in a transient error after the bounded attempts (default 3)", async () => {
    server.inject({ status: 500, path: "/v1/notes" }, 10);
    const error = await client()
      .createNote(NOTE, { idempotencyKey: "n-down" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldApiError);
    expect(error).toMatchObject({ status: 500, transient: true, attempts: 3 });
    expect(server.requests).toHaveLength(3);
    expect(server.createdOf("notes")).toHaveLength(0);
    // Configurable per category.
    server.reset();
    server.inject({ status: 500, path: "/v1/notes" }, 10);
    const two = await client({ attempts: { write: 2 } })
      .createNote(NOTE, { idempotencyKey: "n-down" })
      .catch((e) => e);
    expect(two).toMatchObject({ status: 500, transient: true, attempts: 2 });
    expect(server.requests).toHaveLength(2);
  });

  it("4xx other than 409/429 are final and carry status, type, code, message, param", async () => {
    server.inject({
      status: 403,
      body: {
        error: {
          type: "forbidden",
          message: "Missing scope notes:create",
          code: "missing_scope",
          param: "notes:create",
        },
      },
    });
    const error = await client()
      .createNote(NOTE, { idempotencyKey: "n-403" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldApiError);
    expect(error).toMatchObject({
      status: 403,
      type: "forbidden",
      code: "missing_scope",
      param: "notes:create",
      transient: false,
      attempts: 1,
    });
    expect(error.message).toContain("Missing scope notes:create");
    expect(server.requests).toHaveLength(1);
  });

  it("a 409 other than idempotency_conflict is a final conflict", async () => {
    server.inject({ status: 409, body: { error: { type: "conflict", message: "Duplicate" } } });
    const error = await client()
      .createNote(NOTE, { idempotencyKey: "n-409" })
      .catch((e) => e);
    expect(error).toMatchObject({ status: 409, type: "conflict", transient: false, attempts: 1 });
  });

  it("retries a timed-out read, then succeeds", async () => {
    server.inject({ drop: "hang", path: "/v1/accounts/acc_1" });
    const seen: LightfieldRequestInfo[] = [];
    const record = await client({ timeoutMs: 200, onRequest: (i) => seen.push(i) }).get(
      "accounts",
      "acc_1",
    );
    expect(record.id).toBe("acc_1");
    expect(server.requests).toHaveLength(2);
    expect(seen).toMatchObject([
      { operation: "get", category: "read", code: "timeout", attempt: 1 },
      { operation: "get", category: "read", status: 200, attempt: 2 },
    ]);
  });

  it("an unreachable server is a transient network error after the attempts", async () => {
    const gone = await startLightfieldServer(KEY);
    await gone.close();
    const error = await createLightfieldClient({
      baseUrl: gone.url,
      apiKey: KEY,
      backoff: { initialMs: 10, maxMs: 20 },
    })
      .createNote(NOTE, { idempotencyKey: "n-gone" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldNetworkError);
    expect(error).toMatchObject({ code: "network", transient: true, attempts: 3 });
  });

  it("stops waiting when the caller aborts", async () => {
    server.inject({ status: 429, retryAfter: "30", body: TOO_MANY });
    const abort = new AbortController();
    const pending = client()
      .createNote(NOTE, { idempotencyKey: "n-abort", signal: abort.signal })
      .catch((e) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    abort.abort(new Error("shutting down"));
    expect(await pending).toMatchObject({ message: "shutting down" });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
