// The core in-process, as dispatch's embedded mode calls it: no HTTP, the same semantics.
import { agentDispatches, agentInbox } from "@pw/db/agent";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgliteDatabase, silent } from "../test/harness.ts";
import { agentConfig } from "./config.ts";
import { AgentRejectedError, AgentTransientError } from "./contract.ts";
import { createAgentCore, dispatchIdFor, requestHash, validateRequest } from "./core.ts";
import { type ChannelDriver, PermanentDriverError, TransientDriverError } from "./drivers/types.ts";
import { createLocalAgent } from "./start.ts";

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

describe("agent core in-process", () => {
  let database: Awaited<ReturnType<typeof pgliteDatabase>>;
  beforeAll(async () => {
    database = await pgliteDatabase();
  }, 60_000);
  afterAll(async () => database?.close());

  it("createLocalAgent with the embedded default: e-mail lands in the simulated inbox", async () => {
    const agent = createLocalAgent(agentConfig({ AGENT_UNCONFIGURED_CHANNELS: "simulate" }), {
      db: database.db.db,
      logger: silent,
    });
    try {
      const answer = await agent.dispatch(
        {
          leadId: "lead-local",
          channel: "email",
          to: "ada@example.org",
          subject: "Hi",
          body: "Hello",
          metadata: { unsubscribe: { url: "http://127.0.0.1:4100/unsubscribe/t" } },
        },
        "local-1",
      );
      expect(answer).toMatchObject({ status: "sent", dispatchId: dispatchIdFor("local-1") });
      const [row] = await database.db.db
        .select()
        .from(agentInbox)
        .where(eq(agentInbox.dispatchId, answer.dispatchId));
      expect(answer.providerMessageId).toBe(`sim-${row!.id}`);
      expect(row!.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
      expect(row!.headers.From).toContain("simulated.invalid");
    } finally {
      await agent.close();
    }
  });

  it("an invalid request is an AgentRejectedError naming the field", async () => {
    const agent = createLocalAgent(agentConfig({}), { db: database.db.db, logger: silent });
    const error = await failure(
      agent.dispatch({ leadId: "l", channel: "email", subject: "", body: "x" } as never, "k-bad"),
    );
    expect(error).toBeInstanceOf(AgentRejectedError);
    expect(error).toMatchObject({ status: 400, field: "to" });
  });

  it("a transient driver failure releases the key; a permanent one is kept as failed", async () => {
    const outcomes: (() => never)[] = [
      () => {
        throw new TransientDriverError("connection refused", { retryAfterMs: 1234 });
      },
      () => {
        throw new PermanentDriverError("mailbox unavailable");
      },
    ];
    let sends = 0;
    const driver: ChannelDriver = {
      channel: "slack",
      kind: "scripted",
      async send(message) {
        sends++;
        const next = outcomes.shift();
        if (next) next();
        return { providerMessageId: `p-${message.dispatchId}` };
      },
    };
    const results: string[] = [];
    const core = createAgentCore({
      db: database.db.db,
      drivers: [driver],
      logger: silent,
      onResult: (_c, r) => void results.push(r),
    });
    const request = { leadId: "l", channel: "slack" as const, to: "#x", subject: "", body: "b" };
    const rowOf = async (key: string) =>
      (
        await database.db.db
          .select()
          .from(agentDispatches)
          .where(eq(agentDispatches.idempotencyKey, key))
      )[0];

    const transient = await failure(core.dispatch(request, "k-t"));
    expect(transient).toBeInstanceOf(AgentTransientError);
    expect((transient as AgentTransientError).retryAfterMs).toBe(1234);
    expect(await rowOf("k-t")).toBeUndefined();

    expect(await core.dispatch(request, "k-p")).toMatchObject({
      status: "failed",
      reason: "mailbox unavailable",
    });
    expect((await rowOf("k-p"))?.state).toBe("failed");

    expect(await core.dispatch(request, "k-t")).toMatchObject({ status: "sent" });
    expect(sends).toBe(3);
    expect(results).toEqual(["unavailable", "failed", "sent"]);
  });

  it("a key `sending` within the stale limit is in_progress; past it, failed without a send", async () => {
    let sends = 0;
    const driver: ChannelDriver = {
      channel: "slack",
      kind: "counting",
      send: async () => {
        sends++;
        return { providerMessageId: "x" };
      },
    };
    let clock = new Date("2026-06-01T10:00:00Z");
    const core = createAgentCore({
      db: database.db.db,
      drivers: [driver],
      logger: silent,
      now: () => clock,
      sendingStaleMs: 60_000,
    });
    const request = {
      leadId: "l",
      channel: "slack" as const,
      to: "#x",
      subject: "",
      body: "stale",
    };
    await database.db.db.insert(agentDispatches).values({
      idempotencyKey: "k-stale",
      dispatchId: dispatchIdFor("k-stale"),
      requestHash: requestHash(validateRequest(request, "k-stale").request),
      leadId: "l",
      channel: "slack",
      state: "sending",
      createdAt: clock,
      updatedAt: clock,
    });
    clock = new Date(clock.getTime() + 30_000);
    const busy = await failure(core.dispatch(request, "k-stale"));
    expect((busy as Error).message).toBe("in_progress");
    clock = new Date(clock.getTime() + 60_000);
    expect(await core.dispatch(request, "k-stale")).toMatchObject({
      status: "failed",
      replayed: true,
      reason: expect.stringMatching(/interrupted/),
    });
    expect(sends).toBe(0);
  });
});
