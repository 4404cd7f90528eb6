// The stackAI client against a local server speaking the flow-run contract,
// including its failure modes; and the breaker opening and closing.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createStackAiClient, reasonOf as reasonOfError } from "./client.ts";

/** A flow output shaped like scoring's: the client validates with whatever schema it is given. */
const Output = z.object({
  score: z.number().min(0).max(100),
  tier: z.enum(["hot", "warm", "cold"]),
  segment: z.string().min(1),
  reasons: z.array(z.union([z.string(), z.object({ label: z.string() })])),
});

type Behaviour = { status?: number; body?: string; delayMs?: number };
let next: Behaviour[] = [];
let requests: { url: string; auth: string | undefined; body: Record<string, unknown> }[] = [];
let server: Server;
let base = "";
const good = {
  score: 82,
  tier: "hot",
  segment: "exec-mid",
  reasons: ["Requested a demo", { label: "VP at a SaaS company", contribution: 12 }],
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      requests.push({
        url: req.url ?? "",
        auth: req.headers.authorization,
        body: JSON.parse(raw || "{}"),
      });
      const b = next.shift() ?? {
        body: JSON.stringify({
          outputs: { "out-0": JSON.stringify(good) },
          run_id: "r1",
          state: "COMPLETED",
          error: null,
        }),
      };
      setTimeout(() => {
        res.writeHead(b.status ?? 200, {
          "content-type": "application/json",
          ...(b.status === 429 ? { "retry-after": "0" } : {}),
        });
        res.end(b.body ?? "{}");
      }, b.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
});
const clients: { close: () => Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await new Promise<void>((r) => server.close(() => r()));
});

const client = (o: Partial<Parameters<typeof createStackAiClient>[0]> = {}) => {
  const c = createStackAiClient({
    baseUrl: base,
    apiKey: "sk-stack",
    orgId: "org1",
    flowId: "flow1",
    timeoutMs: 300,
    maxRetries: 1,
    ...o,
  });
  clients.push(c);
  return c;
};
const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => reasonOfError(e),
  );

describe("stackAI client", () => {
  it("posts the lead in the contract's shape and accepts outputs.out-0", async () => {
    requests = [];
    const out = await client().run("lead-1", { profile: { title: "VP" } }, Output);
    expect(out).toMatchObject({ score: 82, tier: "hot", segment: "exec-mid" });
    expect(requests[0]).toMatchObject({
      url: "/inference/v0/run/org1/flow1",
      auth: "Bearer sk-stack",
      body: { user_id: "lead-1" },
    });
    expect(JSON.parse(requests[0]!.body["in-0"] as string)).toEqual({ profile: { title: "VP" } });
  });

  it("accepts out-0 at the top level too", async () => {
    next = [
      {
        body: JSON.stringify({
          "out-0": JSON.stringify(good),
          run_id: "r2",
          state: "COMPLETED",
          error: null,
        }),
      },
    ];
    expect((await client().run("lead-1", {}, Output)).score).toBe(82);
  });

  it.each([
    ["422 (flow rejected input)", [{ status: 422, body: '{"detail":"bad input"}' }], "http_422"],
    ["429 twice (rate limited)", [{ status: 429 }, { status: 429 }], "http_429"],
    ["500 twice", [{ status: 500 }, { status: 500 }], "http_500"],
    ["a timeout", [{ delayMs: 1_000 }, { delayMs: 1_000 }], "timeout"],
    ["malformed JSON", [{ body: "<html>oops" }], "malformed_response"],
    [
      "out-0 that is not JSON",
      [
        {
          body: JSON.stringify({
            outputs: { "out-0": "The lead looks great!" },
            state: "COMPLETED",
          }),
        },
      ],
      "invalid_output",
    ],
    [
      "JSON with wrong fields",
      [
        {
          body: JSON.stringify({
            outputs: { "out-0": JSON.stringify({ score: 180, tier: "boiling" }) },
            state: "COMPLETED",
          }),
        },
      ],
      "invalid_output",
    ],
    [
      "a failed run",
      [{ body: JSON.stringify({ outputs: {}, state: "FAILED", error: "boom" }) }],
      "flow_not_completed",
    ],
  ])("fails with a recorded reason on %s", async (_name, behaviours, reason) => {
    next = [...(behaviours as Behaviour[])];
    expect(await reasonOf(client().run("lead-1", {}, Output))).toBe(reason);
    next = [];
  });

  it("retries a 5xx once and then succeeds", async () => {
    next = [{ status: 503 }];
    expect((await client().run("lead-1", {}, Output)).tier).toBe("hot");
  });

  it("retries a 429 and then succeeds", async () => {
    requests = [];
    next = [{ status: 429 }];
    expect((await client().run("lead-1", {}, Output)).tier).toBe("hot");
    expect(requests).toHaveLength(2);
  });

  it("does not retry a timeout: the call is bounded by the timeout", async () => {
    requests = [];
    next = [{ delayMs: 1_000 }];
    const started = Date.now();
    expect(await reasonOf(client({ maxRetries: 2 }).run("lead-1", {}, Output))).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(800);
    expect(requests).toHaveLength(1);
    next = [];
  });

  it("strips a markdown json fence and accepts an out-0 that is already an object", async () => {
    next = [
      {
        body: JSON.stringify({
          outputs: { "out-0": `\n\`\`\`json\n${JSON.stringify(good)}\n\`\`\`\n` },
          state: "COMPLETED",
        }),
      },
      { body: JSON.stringify({ outputs: { "out-0": good }, state: "COMPLETED" }) },
    ];
    expect((await client().run("lead-1", {}, Output)).segment).toBe("exec-mid");
    expect((await client().run("lead-1", {}, Output)).segment).toBe("exec-mid");
  });

  it("validates with the caller's schema", async () => {
    const Other = z.object({ intent: z.enum(["positive", "neutral"]) });
    next = [{ body: JSON.stringify({ "out-0": '{"intent":"positive"}', state: "COMPLETED" }) }];
    expect(await client().run("u", "text", Other)).toEqual({ intent: "positive" });
    expect(await reasonOf(client().run("u", "text", Other))).toBe("invalid_output");
  });

  it("opens the breaker after repeated failures, fails fast, and closes after a good probe", async () => {
    let t = 1_000_000;
    const c = client({
      maxRetries: 0,
      breaker: { failureThreshold: 3, cooldownMs: 10_000 },
      now: () => t,
    });
    next = [{ status: 500 }, { status: 500 }, { status: 500 }];
    for (let i = 0; i < 3; i++) expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    expect(c.breakerState()).toBe("open");
    requests = [];
    expect(await reasonOf(c.run("l", {}, Output))).toBe("circuit_open");
    expect(requests).toHaveLength(0); // failing fast: the vendor is not called
    t += 10_001;
    expect(c.breakerState()).toBe("half_open");
    expect(await reasonOf(c.run("l", {}, Output))).toBe("ok");
    expect(c.breakerState()).toBe("closed");
    // A failed probe re-opens it at once.
    next = [{ status: 500 }, { status: 500 }, { status: 500 }];
    for (let i = 0; i < 3; i++) await reasonOf(c.run("l", {}, Output));
    t += 10_001;
    next = [{ status: 500 }];
    expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    expect(c.breakerState()).toBe("open");
  });

  it("lets a single probe through while half-open", async () => {
    let t = 1_000_000;
    const c = client({
      maxRetries: 0,
      breaker: { failureThreshold: 1, cooldownMs: 1_000 },
      now: () => t,
    });
    next = [{ status: 500 }];
    expect(await reasonOf(c.run("l", {}, Output))).toBe("http_500");
    t += 1_001;
    next = [
      {
        delayMs: 100,
        body: JSON.stringify({ outputs: { "out-0": JSON.stringify(good) }, state: "COMPLETED" }),
      },
    ];
    const probe = c.run("l", {}, Output);
    expect(await reasonOf(c.run("l", {}, Output))).toBe("circuit_open");
    expect(await reasonOf(probe)).toBe("ok");
    expect(c.breakerState()).toBe("closed");
  });

  it("limits concurrency: a slow vendor sees at most N requests at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const slow = createServer((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(JSON.stringify({ outputs: { "out-0": JSON.stringify(good) }, state: "COMPLETED" }));
      }, 50);
    });
    await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
    const a = slow.address();
    const c = createStackAiClient({
      baseUrl: `http://127.0.0.1:${typeof a === "object" && a ? a.port : 0}`,
      apiKey: "k",
      orgId: "o",
      flowId: "f",
      concurrency: 3,
    });
    await Promise.all(Array.from({ length: 12 }, () => c.run("l", {}, Output)));
    expect(peak).toBe(3);
    await c.close();
    await new Promise<void>((r) => slow.close(() => r()));
  });
});
