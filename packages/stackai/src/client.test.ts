// The stackAI client against the contract test server, including its failure modes;
// Retry-After; the breaker opening and closing; the concurrency cap; hostile answers
// (an out-0 built to make a regex backtrack, a body too large to hold).
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createStackAiClient, reasonOf as reasonOfError } from "./client.ts";
import { type ScriptedReply, useStackAiServer } from "./test-server.ts";

/** A flow output shaped like scoring's: the client validates with whatever schema it is given. */
const Output = z.object({
  score: z.number().min(0).max(100),
  tier: z.enum(["hot", "warm", "cold"]),
  segment: z.string().min(1),
  reasons: z.array(z.union([z.string(), z.object({ label: z.string() })])),
});
const good = {
  score: 82,
  tier: "hot",
  segment: "exec-mid",
  reasons: ["Requested a demo", { label: "VP at a SaaS company", contribution: 12 }],
};
const ok: ScriptedReply = { out0: good };

const vendor = useStackAiServer("flow1");
const client = vendor.client;
const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => reasonOfError(e),
  );

describe("stackAI client", () => {
  afterEach(() => vi.useRealTimers());

  it("posts the lead in the contract's shape and accepts outputs.out-0", async () => {
    vendor.reply(ok);
    const out = await client().run("lead-1", { profile: { title: "VP" } }, Output);
    expect(out).toMatchObject({ score: 82, tier: "hot", segment: "exec-mid" });
    expect(vendor.runs).toEqual([
      expect.objectContaining({
        orgId: "org-test",
        flowId: "flow1",
        authorization: `Bearer ${vendor.server.apiKey}`,
        userId: "lead-1",
        input: { profile: { title: "VP" } },
      }),
    ]);
  });

  it("accepts out-0 at the top level too", async () => {
    vendor.reply({ out0: good, topLevel: true });
    expect((await client().run("lead-1", {}, Output)).score).toBe(82);
  });

  it("is refused with a wrong key", async () => {
    expect(await reasonOf(client({ apiKey: "sk-wrong" }).run("l", {}, Output))).toBe("http_401");
  });

  it.each([
    ["422 (flow rejected input)", [{ status: 422 }], "http_422"],
    ["429 twice (rate limited)", [{ status: 429 }, { status: 429 }], "http_429"],
    ["500 twice", [{ status: 500 }, { status: 500 }], "http_500"],
    ["a timeout", [{ delayMs: 1_000 }, { delayMs: 1_000 }], "timeout"],
    ["a hang", [{ hang: true }], "timeout"],
    ["malformed JSON", [{ body: "<html>oops" }], "malformed_response"],
    ["out-0 that is not JSON", [{ out0: "The lead looks great!" }], "invalid_output"],
    ["JSON with wrong fields", [{ out0: { score: 180, tier: "boiling" } }], "invalid_output"],
    ["a failed run", [{ out0: {}, state: "FAILED" }], "flow_not_completed"],
    ["no out-0", [{ body: JSON.stringify({ outputs: {}, state: "COMPLETED" }) }], "missing_output"],
  ])("fails with a recorded reason on %s", async (_name, replies, reason) => {
    vendor.reply(...(replies as ScriptedReply[]));
    expect(await reasonOf(client().run("lead-1", {}, Output))).toBe(reason);
  });

  it("retries a 5xx once and then succeeds", async () => {
    vendor.reply({ status: 503 }, ok);
    expect((await client().run("lead-1", {}, Output)).tier).toBe("hot");
    expect(vendor.runs).toHaveLength(2);
  });

  it("retries a 429 and then succeeds", async () => {
    vendor.reply({ status: 429 }, ok);
    expect((await client().run("lead-1", {}, Output)).tier).toBe("hot");
    expect(vendor.runs).toHaveLength(2);
  });

  it.each([429, 503])("waits what a %i's Retry-After asks before retrying", async (status) => {
    vendor.reply({ status, retryAfter: "1" }, ok);
    expect((await client().run("lead-1", {}, Output)).tier).toBe("hot");
    expect(vendor.runs).toHaveLength(2);
    // Our own backoff would have retried within 200 ms.
    expect(vendor.runs[1]!.at - vendor.runs[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("does not retry when Retry-After asks for longer than maxRetryAfterMs: it fails at once", async () => {
    vendor.reply({ status: 429, retryAfter: "30" }, ok);
    const started = Date.now();
    const c = client({ maxRetries: 2, maxRetryAfterMs: 5_000 });
    expect(await reasonOf(c.run("lead-1", {}, Output))).toBe("http_429");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(vendor.runs).toHaveLength(1);
  });

  it("does not retry a timeout: the call is bounded by the timeout", async () => {
    vendor.reply({ delayMs: 1_000 }, ok);
    const started = Date.now();
    expect(await reasonOf(client({ maxRetries: 2 }).run("lead-1", {}, Output))).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(800);
    expect(vendor.runs).toHaveLength(1);
  });

  it("strips a markdown json fence and accepts an out-0 that is already an object", async () => {
    vendor.reply(
      { out0: `\n\`\`\`json\n${JSON.stringify(good)}\n\`\`\`\n` },
      { body: JSON.stringify({ outputs: { "out-0": good }, state: "COMPLETED" }) },
    );
    expect((await client().run("lead-1", {}, Output)).segment).toBe("exec-mid");
    expect((await client().run("lead-1", {}, Output)).segment).toBe("exec-mid");
  });

  it("validates with the caller's schema", async () => {
    const Other = z.object({ intent: z.enum(["positive", "neutral"]) });
    vendor.reply({ out0: { intent: "positive" }, topLevel: true }, { out0: { intent: "maybe" } });
    expect(await client().run("u", "text", Other)).toEqual({ intent: "positive" });
    expect(await reasonOf(client().run("u", "text", Other))).toBe("invalid_output");
  });

  it("opens the breaker after repeated failures, fails fast, and closes after a good probe", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const c = client({ maxRetries: 0, breaker: { failureThreshold: 3, cooldownMs: 10_000 } });
    vendor.reply({ status: 500 }, { status: 500 }, { status: 500 });
    for (let i = 0; i < 3; i++) expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    expect(c.breakerState()).toBe("open");
    expect(await reasonOf(c.run("l", {}, Output))).toBe("circuit_open");
    expect(vendor.runs).toHaveLength(3); // failing fast: the vendor is not called
    vi.setSystemTime(Date.now() + 10_001);
    expect(c.breakerState()).toBe("half_open");
    vendor.reply(ok);
    expect(await reasonOf(c.run("l", {}, Output))).toBe("ok");
    expect(c.breakerState()).toBe("closed");
    // A failed probe re-opens it at once.
    vendor.reply({ status: 500 }, { status: 500 }, { status: 500 });
    for (let i = 0; i < 3; i++) await reasonOf(c.run("l", {}, Output));
    vi.setSystemTime(Date.now() + 10_001);
    vendor.reply({ status: 500 });
    expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    expect(c.breakerState()).toBe("open");
  });

  it("lets a single probe through while half-open, and the probe is not retried", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const c = client({ maxRetries: 2, breaker: { failureThreshold: 1, cooldownMs: 1_000 } });
    vendor.reply({ status: 422 });
    expect(await reasonOf(c.run("l", {}, Output))).toBe("http_422");
    vi.setSystemTime(Date.now() + 1_001);
    vendor.reply({ delayMs: 100, out0: good });
    const probe = c.run("l", {}, Output);
    expect(await reasonOf(c.run("l", {}, Output))).toBe("circuit_open");
    expect(await reasonOf(probe)).toBe("ok");
    expect(c.breakerState()).toBe("closed");

    vendor.reply({ status: 422 });
    await reasonOf(c.run("l", {}, Output));
    vi.setSystemTime(Date.now() + 1_001);
    vendor.reply({ status: 500 }, ok);
    expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    expect(vendor.runs).toHaveLength(4);
  });

  it("limits concurrency: a slow vendor sees at most N requests at once", async () => {
    vendor.reply(...Array.from({ length: 12 }, () => ({ out0: good, delayMs: 50 })));
    const c = client({ concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, () => c.run("l", {}, Output)));
    expect(vendor.runs).toHaveLength(12);
    expect(vendor.server.peakInFlight).toBe(3);
  });

  it("parses a hostile out-0 (x, 80 000 spaces, x) in linear time: the event loop is not blocked", async () => {
    vendor.reply({ out0: `x${" ".repeat(80_000)}x` });
    const started = performance.now();
    expect(await reasonOf(client().run("lead-1", {}, Output))).toBe("invalid_output");
    // A backtracking fence regex took 8.6 s here, all of it on the event loop.
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("still strips fences around hostile padding in linear time", async () => {
    const padded = `\`\`\`json${" ".repeat(80_000)}${JSON.stringify(good)}${" ".repeat(80_000)}\`\`\``;
    vendor.reply({ out0: padded });
    const started = performance.now();
    expect((await client().run("lead-1", {}, Output)).score).toBe(82);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("refuses a body over the size limit with a clear reason", async () => {
    const huge = JSON.stringify({
      outputs: { "out-0": JSON.stringify(good) },
      state: "COMPLETED",
      padding: "a".repeat(1_100_000),
    });
    vendor.reply({ body: huge }, { body: huge });
    const error = await client()
      .run("lead-1", {}, Output)
      .catch((e: unknown) => e as Error);
    expect(reasonOfError(error)).toBe("response_too_large");
    expect((error as Error).message).toMatch(/larger than 1048576 bytes/);
    // The limit is the caller's to raise.
    expect(await reasonOf(client({ maxResponseBytes: 2_000_000 }).run("l", {}, Output))).toBe("ok");
  });
});

/** A vendor that answers 200 and then never stops sending, or announces a huge body. */
async function hostileServer(mode: "endless" | "announced") {
  const server: Server = createServer((req, res) => {
    req.resume();
    if (mode === "announced") {
      res.writeHead(200, { "content-type": "application/json", "content-length": "50000000" });
      res.write("{");
      return; // the rest never comes
    }
    res.writeHead(200, { "content-type": "application/json" });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once("drain", pump);
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("stackAI client against a hostile vendor", () => {
  it.each(["endless", "announced"] as const)(
    "stops reading at the size limit (%s body) instead of buffering it or waiting",
    async (mode) => {
      const server = await hostileServer(mode);
      const c = createStackAiClient({
        baseUrl: server.url,
        apiKey: "k",
        orgId: "o",
        flowId: "f",
        timeoutMs: 5_000,
        maxRetries: 0,
        maxResponseBytes: 256 * 1024,
      });
      try {
        const started = performance.now();
        expect(await reasonOf(c.run("l", {}, Output))).toBe("response_too_large");
        expect(performance.now() - started).toBeLessThan(2_000);
      } finally {
        await c.close();
        await server.close();
      }
    },
  );
});
