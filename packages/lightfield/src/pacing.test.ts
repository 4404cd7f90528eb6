// Pacing per rate-limit category, measured where it matters: the arrival times on the
// contract server.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLightfieldClient } from "./client.ts";
import {
  accountFixture,
  type LightfieldServer,
  type ServerRequest,
  startLightfieldServer,
} from "./test-server.ts";

const KEY = "sk_lf_test_pacing";
const NOTE = { title: "Sent", content: "Hello" };

/**
 * The most requests that arrived within any sliding "second" — 950 ms, not 1,000: arrival
 * times carry the test machine's scheduling jitter (a request sent on time can land 50 ms
 * late on a loaded 2-core runner, bunching with the next), which the client's 5% headroom
 * absorbs against the server's real per-wall-clock-second window (no 429 is asserted
 * separately) but which a strict 1,000 ms sliding count would read as a 26th request. A
 * client that does not pace, or paces faster than 25/s, still fails this by far.
 */
function busiestSecond(requests: ServerRequest[]): number {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (at[i]! - at[j]! >= 950) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe("Lightfield pacing", () => {
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
  const client = () => createLightfieldClient({ baseUrl: server.url, apiKey: KEY });

  it("a burst of 60 writes never exceeds 25 per second, meets no 429, creates 60 notes", async () => {
    const c = client();
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) => c.createNote(NOTE, { idempotencyKey: `burst-${i}` })),
    );
    expect(new Set(created.map((n) => n.id)).size).toBe(60);
    expect(server.createdOf("notes")).toHaveLength(60);
    expect(server.requests).toHaveLength(60);
    expect(server.requests.some((r) => r.status === 429)).toBe(false);
    expect(busiestSecond(server.requests)).toBeLessThanOrEqual(25);
  });

  it("paces each category on its own: reads are not queued behind writes", async () => {
    const c = client();
    await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => c.createNote(NOTE, { idempotencyKey: `mix-${i}` })),
      ...Array.from({ length: 30 }, () => c.get("accounts", "acc_1")),
    ]);
    const writes = server.requests.filter((r) => r.category === "write");
    const reads = server.requests.filter((r) => r.category === "read");
    expect(busiestSecond(writes)).toBeLessThanOrEqual(25);
    expect(busiestSecond(reads)).toBeLessThanOrEqual(25);
    // Together they ran at more than one category's budget.
    expect(busiestSecond(server.requests)).toBeGreaterThan(25);
    expect(server.requests.some((r) => r.status === 429)).toBe(false);
  });

  it("X-RateLimit-Remaining 0 holds the category until X-RateLimit-Reset", async () => {
    const reset = Math.ceil(Date.now() / 1000) + 1; // unix seconds, at least 1 s ahead
    server.inject({
      path: "/v1/notes",
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) },
    });
    const c = client();
    await c.createNote(NOTE, { idempotencyKey: "held-1" });
    // Another category is not held…
    await c.get("accounts", "acc_1");
    // …the next write is.
    await c.createNote(NOTE, { idempotencyKey: "held-2" });
    const [first, read, second] = server.requests;
    expect(first!.path).toBe("/v1/notes");
    expect(read!.at).toBeLessThan(reset * 1000);
    expect(second!.path).toBe("/v1/notes");
    expect(second!.at).toBeGreaterThanOrEqual(reset * 1000);
  });

  it("a lower X-RateLimit-Limit lowers the pace, and Remaining reaching 0 costs no 429", async () => {
    server.settings.rateLimit = 4;
    const c = client();
    for (let i = 0; i < 10; i++) await c.createNote(NOTE, { idempotencyKey: `low-${i}` });
    expect(server.requests.every((r) => r.status === 201)).toBe(true);
    expect(busiestSecond(server.requests)).toBeLessThanOrEqual(4);
  });
});
