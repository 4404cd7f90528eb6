// The in-process agent's batch path keeps the single path's promises per key: a new key
// sends once, a key seen before replays, a key reused with another body is refused, a bad
// request is refused alone — and the simulated inbox holds one message per key.
import { queryRows } from "@pw/db";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { emailRequest, pgliteDatabase, silent } from "../test/harness.ts";
import { agentConfig } from "./config.ts";
import { AgentRejectedError, type DispatchResponse } from "./contract.ts";
import { createLocalAgent } from "./start.ts";

describe("dispatchMany", () => {
  let database: Awaited<ReturnType<typeof pgliteDatabase>>;
  let agent: ReturnType<typeof createLocalAgent>;

  beforeEach(async () => {
    database = await pgliteDatabase();
    agent = createLocalAgent(agentConfig({ AGENT_UNCONFIGURED_CHANNELS: "simulate" }), {
      db: database.db.db,
      logger: silent,
    });
  });
  afterEach(async () => {
    await agent.close();
    await database.close();
  });

  const inbox = async () =>
    queryRows<{ lead_id: string; headers: Record<string, string> }>(
      database.db.db,
      sql`select lead_id, headers from agent.inbox order by id`,
    );

  it("answers each key as dispatch would, in order, in one go", async () => {
    const seen = emailRequest({ leadId: "lead-seen" });
    const first = await agent.dispatch(seen, "key-seen");
    const fresh = Array.from({ length: 5 }, (_, i) => emailRequest({ leadId: `lead-${i}` }));
    const answers = await agent.dispatchMany!([
      ...fresh.map((request, i) => ({ request, idempotencyKey: `key-${i}` })),
      { request: seen, idempotencyKey: "key-seen" },
      { request: emailRequest({ leadId: "other" }), idempotencyKey: "key-seen" },
      { request: { ...emailRequest(), to: "" }, idempotencyKey: "key-bad" },
    ]);
    const ok = answers.slice(0, 5) as DispatchResponse[];
    expect(ok.map((a) => a.status)).toEqual(["sent", "sent", "sent", "sent", "sent"]);
    expect(new Set(ok.map((a) => a.dispatchId)).size).toBe(5);
    expect(ok.every((a) => a.providerMessageId?.startsWith("sim-"))).toBe(true);
    expect(answers[5]).toMatchObject({
      dispatchId: first.dispatchId,
      status: "sent",
      replayed: true,
    });
    expect(answers[6]).toBeInstanceOf(AgentRejectedError);
    expect((answers[6] as AgentRejectedError).status).toBe(422);
    expect(answers[7]).toBeInstanceOf(AgentRejectedError);
    expect((answers[7] as AgentRejectedError).status).toBe(400);

    const mail = await inbox();
    expect(mail.map((m) => m.lead_id).sort()).toEqual(
      ["lead-seen", "lead-0", "lead-1", "lead-2", "lead-3", "lead-4"].sort(),
    );
    expect(
      mail.every((m) => m.headers["List-Unsubscribe-Post"] === "List-Unsubscribe=One-Click"),
    ).toBe(true);

    // The whole batch again: replays only, nothing new in the inbox.
    const again = await agent.dispatchMany!(
      fresh.map((request, i) => ({ request, idempotencyKey: `key-${i}` })),
    );
    expect((again as DispatchResponse[]).every((a) => a.replayed === true)).toBe(true);
    expect(await inbox()).toHaveLength(6);
  });
});
