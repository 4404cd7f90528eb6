// The contract server itself, spoken to with plain HTTP: it must refuse what Lightfield
// documents it refuses, or the client's tests against it prove nothing.
import { request } from "undici";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type LightfieldServer, startLightfieldServer } from "./test-server.ts";

const KEY = "sk_lf_test_server";
/** What the server answers, as far as these tests read it. */
type Body = {
  id?: string;
  type?: string;
  message?: string;
  error?: { type?: string; message?: string; code?: string; param?: string };
};
const HEADERS = {
  authorization: `Bearer ${KEY}`,
  "lightfield-version": "2026-03-01",
  "content-type": "application/json",
};

describe("Lightfield contract server", () => {
  let server: LightfieldServer;
  beforeAll(async () => {
    server = await startLightfieldServer(KEY);
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.reset();
    server.settings.rateLimit = 25;
    server.settings.writeDelayMs = 0;
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await request(`${server.url}${path}`, {
      method: "POST",
      headers: { ...HEADERS, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Body };
  };
  const note = { fields: { $title: "T", $content: "C" }, relationships: { $account: "acc_1" } };

  it("answers version_header without Lightfield-Version, 415 without JSON, 401 without the key", async () => {
    const { "lightfield-version": _, ...noVersion } = HEADERS;
    const res = await request(`${server.url}/v1/notes`, {
      method: "POST",
      headers: noVersion,
      body: JSON.stringify(note),
    });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as Body).error).toMatchObject({ code: "version_header" });
    expect((await post("/v1/notes", note, { "content-type": "text/plain" })).status).toBe(415);
    expect((await post("/v1/notes", note, { authorization: "Bearer nope" })).status).toBe(401);
    expect(server.createdOf("notes")).toHaveLength(0);
  });

  it("requires a note's $title and a task's $title, $status and $assignedTo (422 names them)", async () => {
    const param = async (path: string, body: unknown) => {
      const r = await post(path, body);
      expect(r.status).toBe(422);
      return r.body.error?.param;
    };
    expect(await param("/v1/notes", { fields: { $content: "C" } })).toBe("fields.$title");
    const task = {
      fields: { $title: "T", $status: "TODO" },
      relationships: { $assignedTo: "mem_1" },
    };
    expect(await param("/v1/tasks", { ...task, fields: { $title: "T" } })).toBe("fields.$status");
    expect(await param("/v1/tasks", { ...task, fields: { $title: "T", $status: "DONE" } })).toBe(
      "fields.$status",
    );
    expect(await param("/v1/tasks", { ...task, relationships: {} })).toBe(
      "relationships.$assignedTo",
    );
    expect(
      await param("/v1/notes", { fields: { $title: { value: "T", valueType: "TEXT" } } }),
    ).toBe("fields.$title");
    expect((await post("/v1/tasks", task)).status).toBe(201);
    expect(server.createdOf("tasks")).toHaveLength(1);
    expect(server.createdOf("notes")).toHaveLength(0);
  });

  it("replays the first answer to a repeated Idempotency-Key; a key over 255 is a 400", async () => {
    const first = await post("/v1/notes", note, { "idempotency-key": "k1" });
    const again = await post("/v1/notes", note, { "idempotency-key": "k1" });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(server.createdOf("notes")).toHaveLength(1);
    const long = await post("/v1/notes", note, { "idempotency-key": "k".repeat(256) });
    expect(long.status).toBe(400);
    expect(long.body.error?.param).toBe("Idempotency-Key");
  });

  it("a concurrent duplicate gets 409 idempotency_conflict; a failed original runs again", async () => {
    server.settings.writeDelayMs = 300;
    const first = post("/v1/notes", note, { "idempotency-key": "k2" });
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const dup = await post("/v1/notes", note, { "idempotency-key": "k2" });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ type: "conflict", code: "idempotency_conflict" });
    expect((await first).status).toBe(201);
    server.settings.writeDelayMs = 0;
    const bad = await post("/v1/notes", { fields: {} }, { "idempotency-key": "k3" });
    expect(bad.status).toBe(422);
    const fixed = await post("/v1/notes", note, { "idempotency-key": "k3" });
    expect(fixed.status).toBe(201);
  });

  it("puts rate-limit headers on every answer and 429s past the limit, per category", async () => {
    server.settings.rateLimit = 2;
    // The window is the wall-clock second: start early in one so all three land in it.
    while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 10));
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post("/v1/notes", { fields: {} })); // 422s count
    expect(answers.map((a) => a.status)).toEqual([422, 422, 429]);
    expect(answers.map((a) => a.headers["x-ratelimit-remaining"])).toEqual(["1", "0", "0"]);
    expect(answers.every((a) => a.headers["x-ratelimit-limit"] === "2")).toBe(true);
    expect(answers[2]!.headers["retry-after"]).toBe("1");
    expect(answers[2]!.body).toEqual({ type: "too_many_requests", message: "Rate limit exceeded" });
    const reset = Number(answers[0]!.headers["x-ratelimit-reset"]);
    expect(reset).toBe(Math.floor(server.requests[0]!.at / 1000) + 1);
    // Search is another category.
    const list = await request(`${server.url}/v1/accounts?limit=1&offset=0`, { headers: HEADERS });
    await list.body.dump();
    expect(list.statusCode).toBe(200);
  });

  it("takes faults in order, by method and path, and logs every request with its body", async () => {
    server.inject({ status: 503, retryAfter: "2", path: "/v1/tasks" });
    server.inject({ status: 500 }, 2);
    const a = await post("/v1/notes", note);
    const b = await post("/v1/notes", note);
    const c = await post("/v1/notes", note);
    expect([a.status, b.status, c.status]).toEqual([500, 500, 201]);
    const t = await post("/v1/tasks", { fields: {} });
    expect(t.status).toBe(503);
    expect(t.headers["retry-after"]).toBe("2");
    expect(server.faults).toHaveLength(0);
    expect(server.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["POST", "/v1/notes", 500],
      ["POST", "/v1/notes", 500],
      ["POST", "/v1/notes", 201],
      ["POST", "/v1/tasks", 503],
    ]);
    expect(JSON.parse(server.requests[2]!.body)).toEqual(note);
    expect(server.requests[2]!.headers["lightfield-version"]).toBe("2026-03-01");
  });
});
