// Delivery against a stub ingest on a real socket: a 503 with Retry-After (and a 429) is
// waited out and retried until accepted, under the same webhook-id and a fresh signature;
// an ingest that refuses connections is retried until the deadline and reported as not
// delivered, never as sent; a 4xx is final and grouped by status, code and message.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { postOutcome } from "./outcome.ts";
import { seedFiles } from "./seed-files.ts";
import { TEST_SECRET as secret, stubIngest as stub } from "./stub-ingest.ts";

async function ndjson(lines: object[]) {
  const dir = await mkdtemp(join(tmpdir(), "seed-test-"));
  const file = join(dir, "events.ndjson");
  await writeFile(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
  return file;
}

const signal = (n: number, offsetMs = -60_000) => ({
  webhookId: `test_signal_${n}`,
  route: "/webhooks/signals",
  lead: `lf_con_${n}`,
  offsetMs,
  body: { type: "pricing_viewed", occurredAt: "2026-01-01T00:00:00.000Z", leadId: `lf_con_${n}` },
});

describe("delivery", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it("waits out a 503's Retry-After and a 429, then is accepted, never sending a second copy", async () => {
    const server = await stub((s, attempt) => {
      if (s.id === "test_signal_1" && attempt === 1)
        return {
          status: 503,
          headers: { "retry-after": "1" },
          body: { error: { status: 503, code: "broker_unavailable", message: "retry later" } },
        };
      if (s.id === "test_signal_2" && attempt === 1)
        return { status: 429, headers: { "retry-after": "0" }, body: {} };
      return { status: 202, body: { accepted: true, eventId: `wh_signals_${s.id}` } };
    });
    closers.push(server.close);
    const file = await ndjson([signal(1), signal(2), signal(3)]);
    const retries: string[] = [];
    const summary = await seedFiles({
      ingestUrl: server.url,
      secret,
      files: file,
      onProgress: (p) => p.retrying && retries.push(p.retrying),
    });
    expect(summary).toMatchObject({
      total: 3,
      accepted: 3,
      rejected: 0,
      undelivered: 0,
      retried: 2,
      retries: 2,
    });
    expect(retries).toEqual(expect.arrayContaining(["503 broker_unavailable", "429 http_429"]));
    const first = server.seen.filter((s) => s.id === "test_signal_1");
    expect(first).toHaveLength(2);
    // Retry-After: 1 was honoured, and the same body went again with its own signature.
    expect(first[1]!.at - first[0]!.at).toBeGreaterThanOrEqual(950);
    expect(first[1]!.body).toBe(first[0]!.body);
    expect(server.seen.filter((s) => s.id === "test_signal_3")).toHaveLength(1);
  });

  it("keeps retrying a refused connection until the deadline, then reports every webhook as not delivered", async () => {
    const server = await stub(() => ({ status: 202 }));
    await server.close(); // the port is now closed: connection refused
    const file = await ndjson([signal(1), signal(2)]);
    const summary = await seedFiles({
      ingestUrl: server.url,
      secret,
      files: file,
      deadlineMs: 1_500,
    });
    expect(summary).toMatchObject({ total: 2, accepted: 0, undelivered: 2, deadlineReached: true });
    expect(summary.retries).toBeGreaterThan(0);
    expect(summary.undeliveredReasons[0]!.reason).toMatch(
      /deadline reached while retrying \(last: connection refused by 127\.0\.0\.1:\d+\)/,
    );
  });

  it("retries an attempt that timed out, and counts a duplicate answer to the retry as this run's delivery", async () => {
    let hung: (() => void) | undefined;
    const server = await stub((_s, attempt) =>
      attempt === 1
        ? { status: 202, delayMs: 2_000, onDelay: (release) => (hung = release) }
        : { status: 200, body: { duplicate: true, eventId: "wh_signals_test_signal_1" } },
    );
    closers.push(async () => {
      hung?.();
      await server.close();
    });
    const file = await ndjson([signal(1)]);
    const summary = await seedFiles({
      ingestUrl: server.url,
      secret,
      files: file,
      attemptTimeoutMs: 300,
    });
    expect(summary).toMatchObject({ accepted: 1, duplicates: 0, retried: 1, undelivered: 0 });
    expect(server.seen.map((s) => s.id)).toEqual(["test_signal_1", "test_signal_1"]);
  });

  it("takes a 4xx as final and groups refusals by status, code and message with where they came from", async () => {
    const server = await stub((s) =>
      s.id.endsWith("_2")
        ? { status: 202, body: { accepted: true } }
        : {
            status: 400,
            body: {
              error: {
                status: 400,
                code: "invalid_body",
                message: "body does not match the schema",
                issues: [{ path: "occurredAt", message: "Invalid ISO datetime" }],
              },
            },
          },
    );
    closers.push(server.close);
    const file = await ndjson([signal(1), signal(2), signal(3)]);
    const summary = await seedFiles({ ingestUrl: server.url, secret, files: file });
    expect(summary).toMatchObject({ accepted: 1, rejected: 2, retried: 0 });
    expect(summary.rejections).toEqual([
      {
        status: 400,
        code: "invalid_body",
        message: "body does not match the schema (occurredAt: Invalid ISO datetime)",
        count: 2,
        examples: ["events.ndjson:1", "events.ndjson:3"],
      },
    ]);
    expect(server.seen).toHaveLength(3);
  });

  it("posts one lead's lines in order, and moves their times to the replay", async () => {
    const server = await stub(() => ({ status: 202 }));
    closers.push(server.close);
    const lines = [0, 1, 2, 3].map((n) => ({
      ...signal(n, -(4 - n) * 3_600_000),
      lead: "lf_con_same",
      webhookId: `ordered_${n}`,
    }));
    const file = await ndjson(lines);
    const now = Date.parse("2030-05-05T12:00:00.000Z");
    await seedFiles({ ingestUrl: server.url, secret, files: file, now, concurrency: 4 });
    expect(server.seen.map((s) => s.id)).toEqual([
      "ordered_0",
      "ordered_1",
      "ordered_2",
      "ordered_3",
    ]);
    expect(server.seen.map((s) => JSON.parse(s.body).occurredAt)).toEqual([
      "2030-05-05T08:00:00.000Z",
      "2030-05-05T09:00:00.000Z",
      "2030-05-05T10:00:00.000Z",
      "2030-05-05T11:00:00.000Z",
    ]);
  });

  it("posts an outcome under an id derived from what it says: the same outcome twice is one webhook-id", async () => {
    const server = await stub(() => ({ status: 202, body: { accepted: true, eventId: "e1" } }));
    closers.push(server.close);
    const a = await postOutcome({
      ingestUrl: server.url,
      secret,
      leadId: "lf_con_1",
      kind: "converted",
    });
    const b = await postOutcome({
      ingestUrl: server.url,
      secret,
      leadId: "lf_con_1",
      kind: "converted",
    });
    const c = await postOutcome({
      ingestUrl: server.url,
      secret,
      leadId: "lf_con_1",
      kind: "replied",
      text: "Sounds good, let's talk Tuesday",
    });
    expect(a).toMatchObject({ status: "accepted", eventId: "e1" });
    expect(b.webhookId).toBe(a.webhookId);
    expect(c.webhookId).not.toBe(a.webhookId);
    expect(JSON.parse(server.seen[2]!.body)).toMatchObject({
      type: "replied",
      leadId: "lf_con_1",
      replyText: "Sounds good, let's talk Tuesday",
    });
    await expect(
      postOutcome({ ingestUrl: server.url, secret, leadId: "lf con 1", kind: "converted" }),
    ).rejects.toThrow(/^leadId: "lf con 1" is not a lead id/);
  });
});
