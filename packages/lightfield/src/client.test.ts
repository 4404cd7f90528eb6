// The Lightfield client's reads against the local contract server: headers, errors, pacing.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLightfieldClient } from "./client.ts";
import { LightfieldApiError } from "./errors.ts";
import {
  accountDefinitions,
  accountFixture,
  type LightfieldServer,
  startLightfieldServer,
} from "./test-server.ts";

const KEY = "sk_lf_test_123";

describe("Lightfield client", () => {
  let server: LightfieldServer;
  beforeAll(async () => {
    server = await startLightfieldServer(KEY);
    server.setDefinitions("accounts", accountDefinitions);
    for (let i = 0; i < 30; i++) server.upsert("accounts", accountFixture(`acc_${i}`));
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.settings.rateLimit = 25;
  });
  const client = (extra = {}) =>
    createLightfieldClient({ baseUrl: server.url, apiKey: KEY, attempts: 3, ...extra });

  it("lists a page with totalCount, the end being a short page; gets one; reads definitions", async () => {
    const first = await client().list("accounts", { limit: 100, offset: 0 });
    expect(first).toMatchObject({ object: "list", totalCount: 30 });
    expect(first.data).toHaveLength(25);
    expect(server.requests[0]?.query.get("limit")).toBe("25");
    expect(server.requests[0]?.query.has("sort")).toBe(false);
    expect((await client().list("accounts", { limit: 25, offset: 25 })).data).toHaveLength(5);
    expect((await client().get("accounts", "acc_3")).fields.$headcount?.value).toBe("opt_hc_3");
    const defs = await client().definitions("accounts");
    expect(
      defs.$headcount?.typeConfiguration?.options?.find((o) => o.id === "opt_hc_3")?.label,
    ).toBe("51-200");
  });

  it("surfaces wrapped errors with type, code and param; a bad version is version_header", async () => {
    const unauthorized = await createLightfieldClient({
      baseUrl: server.url,
      apiKey: "sk_lf_wrong",
    })
      .list("accounts", { limit: 5, offset: 0 })
      .catch((e) => e);
    expect(unauthorized).toBeInstanceOf(LightfieldApiError);
    expect(unauthorized).toMatchObject({ status: 401, type: "unauthorized" });
    const version = await client({ version: "2024-01-01" })
      .get("accounts", "acc_1")
      .catch((e) => e);
    expect(version).toMatchObject({
      status: 400,
      code: "version_header",
      param: "Lightfield-Version",
    });
    const missing = await client()
      .get("accounts", "acc_nope")
      .catch((e) => e);
    expect(missing).toMatchObject({ status: 404, type: "not_found" });
  });

  it("reads the unwrapped 429 body and waits Retry-After before retrying", async () => {
    server.faults.push({
      status: 429,
      retryAfter: "1",
      body: { type: "too_many_requests", message: "Rate limit exceeded" },
    });
    const page = await client().list("accounts", { limit: 5, offset: 0 });
    expect(page.data).toHaveLength(5);
    const [a, b] = server.requests;
    expect(a?.status).toBe(429);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
    server.faults.push(
      ...Array.from({ length: 3 }, () => ({
        status: 429,
        retryAfter: "0",
        body: { type: "too_many_requests", message: "Rate limit exceeded" },
      })),
    );
    const error = await client()
      .list("accounts", { limit: 5, offset: 0 })
      .catch((e) => e);
    expect(error).toMatchObject({ status: 429, type: "too_many_requests" });
  });

  it("holds until X-RateLimit-Reset when Remaining reaches 0 (never meeting a 429)", async () => {
    server.settings.rateLimit = 5;
    const c = client();
    for (let i = 0; i < 12; i++) await c.get("accounts", "acc_1");
    expect(server.requests.every((r) => r.status === 200)).toBe(true);
    const perSecond = new Map<number, number>();
    for (const r of server.requests) {
      const s = Math.floor(r.at / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    expect(gaps.filter((g) => g > 100).length).toBeGreaterThanOrEqual(2);
  });

  it("spaces concurrent requests to at most 25 per second", async () => {
    const c = client();
    await Promise.all(Array.from({ length: 40 }, () => c.get("accounts", "acc_1")));
    const times = server.requests.map((r) => r.at).sort((a, b) => a - b);
    for (let i = 25; i < times.length; i++)
      expect(times[i]! - times[i - 25]!).toBeGreaterThanOrEqual(950);
    expect(server.requests.some((r) => r.status === 429)).toBe(false);
  });
});
