// Notes and tasks against the contract server: the documented wire format, one record per
// Idempotency-Key whatever the client retries, and which failures are worth retrying.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLightfieldClient, type LightfieldClientOptions } from "./client.ts";
import { LightfieldApiError, LightfieldNetworkError, LightfieldRequestError } from "./errors.ts";
import { relatedIds } from "./records.ts";
import { contactFixture, type LightfieldServer, startLightfieldServer } from "./test-server.ts";

const KEY = "sk_lf_test_writes";
const NOTE = { title: "Sent: intro email", content: "**Subject** hello", accountId: "acc_1" };

/** Polls until `check` holds (an event the test waits for, not a fixed sleep). */
async function until(check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("Lightfield writes", () => {
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
  const client = (extra: Partial<LightfieldClientOptions> = {}) =>
    createLightfieldClient({
      baseUrl: server.url,
      apiKey: KEY,
      backoff: { initialMs: 20, maxMs: 50 },
      ...extra,
    });
  const posts = (path = "/v1/notes") =>
    server.requests.filter((r) => r.method === "POST" && r.path === path);

  it("creates a note with bare values, its account, JSON, the version and the key", async () => {
    const created = await client().createNote(
      { ...NOTE, opportunityId: "opp_7" },
      { idempotencyKey: "note-1" },
    );
    const [note] = server.createdOf("notes");
    expect(created).toEqual({ id: note!.id });
    expect(note!.idempotencyKey).toBe("note-1");
    const [req] = posts();
    expect(req!.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      "lightfield-version": "2026-03-01",
      "content-type": "application/json",
      "idempotency-key": "note-1",
    });
    expect(JSON.parse(req!.body)).toEqual({
      fields: { $title: NOTE.title, $content: NOTE.content },
      relationships: { $account: "acc_1", $opportunity: "opp_7" },
    });
    expect(note!.record.fields.$content).toEqual({ value: NOTE.content, valueType: "MARKDOWN" });
    expect(relatedIds(note!.record, "$account")).toEqual(["acc_1"]);
  });

  it("creates a task: status TODO by default, the assignee, due date and account", async () => {
    const due = new Date("2026-12-24T09:00:00.000Z");
    const created = await client().createTask(
      {
        title: "Call back",
        description: "They asked",
        assignedTo: "mem_1",
        dueAt: due,
        accountId: "acc_1",
      },
      { idempotencyKey: "task-1" },
    );
    const [task] = server.createdOf("tasks");
    expect(created.id).toBe(task!.id);
    expect(JSON.parse(posts("/v1/tasks")[0]!.body)).toEqual({
      fields: {
        $title: "Call back",
        $status: "TODO",
        $description: "They asked",
        $dueAt: "2026-12-24T09:00:00.000Z",
      },
      relationships: { $assignedTo: "mem_1", $account: "acc_1" },
    });
    expect(relatedIds(task!.record, "$assignedTo")).toEqual(["mem_1"]);
  });

  it("a task without an assignee is a 422 naming the field, not retried", async () => {
    const error = await client()
      .createTask({ title: "Call back", assignedTo: "" }, { idempotencyKey: "task-2" })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldApiError);
    expect(error).toMatchObject({
      status: 422,
      type: "unprocessable_content",
      param: "relationships.$assignedTo",
      transient: false,
      attempts: 1,
    });
    expect(posts("/v1/tasks")).toHaveLength(1);
    expect(server.createdOf("tasks")).toHaveLength(0);
  });

  it("a 422 (empty title) is final: non-transient, with the field, after one attempt", async () => {
    const error = await client()
      .createNote({ ...NOTE, title: "" }, { idempotencyKey: "note-422" })
      .catch((e) => e);
    expect(error).toMatchObject({ status: 422, param: "fields.$title", transient: false });
    expect(error.message).toContain("fields.$title");
    expect(posts()).toHaveLength(1);
  });

  it("refuses an Idempotency-Key over 255 characters before sending anything", async () => {
    const error = await client()
      .createNote(NOTE, { idempotencyKey: "k".repeat(256) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldRequestError);
    expect(error).toMatchObject({ code: "idempotency_key_too_long", transient: false });
    expect(server.requests).toHaveLength(0);
    // 255 is fine.
    await client().createNote(NOTE, { idempotencyKey: "k".repeat(255) });
    expect(server.createdOf("notes")).toHaveLength(1);
  });

  it("a 500 is retried and the note arrives once", async () => {
    server.inject({ status: 500, path: "/v1/notes" });
    const created = await client().createNote(NOTE, { idempotencyKey: "note-500" });
    expect(posts().map((r) => r.status)).toEqual([500, 201]);
    expect(posts().every((r) => r.idempotencyKey === "note-500")).toBe(true);
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([created.id]);
  });

  it("a timed-out write (done, its answer lost) is retried and replayed: one note", async () => {
    server.inject({ drop: "hang", path: "/v1/notes" });
    const created = await client({ timeoutMs: 300 }).createNote(NOTE, {
      idempotencyKey: "note-timeout",
    });
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([created.id]);
    expect(created.replayed).toBe(true);
    expect(posts().map((r) => r.replayed ?? false)).toEqual([false, true]);
  });

  it("a connection reset after the write is retried and replayed: one note", async () => {
    server.inject({ drop: "reset", path: "/v1/notes" });
    const created = await client().createNote(NOTE, { idempotencyKey: "note-reset" });
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([created.id]);
    expect(posts()).toHaveLength(2);
  });

  it("gives up after the bounded attempts with a transient error; the caller's retry replays", async () => {
    server.inject({ drop: "hang", path: "/v1/notes" }, 3);
    const c = client({ timeoutMs: 200 });
    const error = await c.createNote(NOTE, { idempotencyKey: "note-later" }).catch((e) => e);
    expect(error).toBeInstanceOf(LightfieldNetworkError);
    expect(error).toMatchObject({ code: "timeout", transient: true, attempts: 3 });
    expect(posts()).toHaveLength(3);
    // The first attempt wrote the note; the queue's later call gets it back.
    const again = await c.createNote(NOTE, { idempotencyKey: "note-later" });
    expect(again).toEqual({ id: server.createdOf("notes")[0]!.id, replayed: true });
    expect(server.createdOf("notes")).toHaveLength(1);
  });

  it("a concurrent duplicate is a transient idempotency_conflict, then a replay", async () => {
    server.settings.writeDelayMs = 400;
    const c = client();
    const first = c.createNote(NOTE, { idempotencyKey: "note-dup" });
    await until(() => posts().length === 1);
    const conflict = await c.createNote(NOTE, { idempotencyKey: "note-dup" }).catch((e) => e);
    expect(conflict).toBeInstanceOf(LightfieldApiError);
    expect(conflict).toMatchObject({
      status: 409,
      code: "idempotency_conflict",
      transient: true,
      attempts: 1,
    });
    const { id } = await first;
    server.settings.writeDelayMs = 0;
    expect(await c.createNote(NOTE, { idempotencyKey: "note-dup" })).toEqual({
      id,
      replayed: true,
    });
    expect(server.createdOf("notes").map((n) => n.id)).toEqual([id]);
  });

  it("a different key is a different note", async () => {
    const c = client();
    const a = await c.createNote(NOTE, { idempotencyKey: "note-a" });
    const b = await c.createNote(NOTE, { idempotencyKey: "note-b" });
    expect(a.id).not.toBe(b.id);
    expect(server.createdOf("notes")).toHaveLength(2);
  });

  it("reads a contact's account through relatedIds", async () => {
    server.upsert("contacts", contactFixture(5, { accountId: "acc_9" }));
    const contact = await client().get("contacts", "con_5");
    expect(relatedIds(contact, "$account")).toEqual(["acc_9"]);
    expect(relatedIds(contact, "$opportunity")).toEqual([]);
  });
});
