// DLQs on the Health page (PGlite + the in-process bus): a message one consumer group
// parks shows on /api/dlq with why and where; an operator's redrive (CSRF-guarded,
// audited) hands it to that group exactly once — its inbox never recorded it, since the
// failed transaction rolled its mark back — while a group that had handled it skips it
// through its own inbox; asking again finds nothing to redrive.
import { NonRetryableError, publishEvents, subscribeTopic } from "@pw/bus";
import { markProcessed } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { envelope, Topics } from "@pw/events";
import { waitFor } from "@pw/testkit";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestGateway, type TestSession, testGateway } from "../../test/auth-helpers.ts";

type DlqBody = {
  topics: { topic: string; dlqTopic: string; waiting: number | null }[];
  messages: {
    topic: string;
    eventId: string | null;
    eventType: string | null;
    reason: string;
    failureKind: string | null;
    consumerGroup: string | null;
    parkedAt: string;
    redriven: { by: string; auditId: number } | null;
  }[];
  redrive: { available: boolean };
};

const event = (id: string, leadId: string) =>
  envelope({
    id,
    type: "lead.intent_signal.v1",
    source: "pw://ingest",
    subject: leadId,
    data: {
      signal: "pricing_viewed" as const,
      occurredAt: new Date().toISOString(),
      properties: {},
    },
  });

describe("DLQ view and redrive", () => {
  let gw: TestGateway;
  let viewer: TestSession;
  let operator: TestSession;
  /** The groups' handling, as their own tables would show it. */
  const handled = { picky: [] as string[], steady: [] as string[], steadySkipped: [] as string[] };
  let pickyBroken = true;

  beforeAll(async () => {
    gw = await testGateway();
    viewer = await gw.session("vic", "viewer");
    operator = await gw.session("otto", "operator");
    // Two services' consumers of lead.events.v1, each with its inbox row in the
    // transaction of its work (@pw/db's pattern); "picky" refuses the event for now.
    const consumer = (group: "picky" | "steady") =>
      subscribeTopic(gw.bus, {
        groupId: group,
        topic: Topics.leadEvents,
        maxAttempts: 1,
        handler: async (e) =>
          gw.db.db.transaction(async (tx) => {
            if (!(await markProcessed(tx, schema.gatewayInbox, group, e.id))) {
              if (group === "steady") handled.steadySkipped.push(e.id);
              return;
            }
            if (group === "picky" && pickyBroken)
              throw new NonRetryableError("segment table missing a row");
            handled[group].push(e.id);
          }),
      });
    await consumer("picky");
    await consumer("steady");
  }, 60_000);
  afterAll(() => gw?.stop());

  const dlq = async (q = "") =>
    (await gw.as(viewer, { method: "GET", url: `/api/dlq${q}` })).json() as DlqBody;
  const redrive = (body: unknown, s: TestSession = operator) =>
    gw.as(s, { method: "POST", url: "/api/commands/dlq-redrive", payload: body as object });

  it("lists a parked message with why, where and who gave up, and how many wait", async () => {
    await publishEvents(gw.bus, Topics.leadEvents, [event("evt-dlq-1", "lead-d1")]);
    await waitFor(() => handled.steady.includes("evt-dlq-1"), { message: "steady handled it" });
    const body = await waitFor(
      async () => {
        const b = await dlq(`?topic=${Topics.leadEvents}`);
        return b.messages.length > 0 ? b : undefined;
      },
      { message: "the parked message on /api/dlq" },
    );
    expect(body!.redrive.available).toBe(true);
    expect(body!.messages[0]).toMatchObject({
      topic: "lead.events.v1",
      eventId: "evt-dlq-1",
      eventType: "lead.intent_signal.v1",
      failureKind: "non-retryable",
      consumerGroup: "picky",
      redriven: null,
      reason: expect.stringContaining("segment table missing a row"),
    });
    expect(body!.topics).toEqual([
      { topic: "lead.events.v1", dlqTopic: "lead.events.v1.dlq", waiting: 1 },
    ]);
    expect((await dlq()).topics.map((t) => t.topic)).toContain("outreach.requested.v1");
  });

  it("refuses a bad redrive body naming the field, a viewer, and a request without CSRF", async () => {
    const none = await redrive({ topic: "lead.events.v1" });
    expect(none.statusCode).toBe(400);
    expect(none.json().issues[0].field).toBe("eventId");
    const two = await redrive({ topic: "lead.events.v1", eventId: "x", all: true });
    expect(two.json().issues[0]).toMatchObject({ field: "all" });
    const topic = await redrive({ topic: "lead.nothing.v1", all: true });
    expect(topic.json().issues[0].field).toBe("topic");
    expect((await redrive({ topic: "lead.events.v1", all: true }, viewer)).statusCode).toBe(403);
    const noCsrf = await gw.as(operator, {
      method: "POST",
      url: "/api/commands/dlq-redrive",
      payload: { topic: "lead.events.v1", all: true },
      csrf: false,
    });
    expect(noCsrf.statusCode).toBe(403);
    expect((await dlq()).topics.find((t) => t.topic === "lead.events.v1")?.waiting).toBe(1);
  });

  it("redrives it once: the group that parked it handles it, the other skips it, the audit log says so", async () => {
    pickyBroken = false;
    const res = await redrive({
      topic: "lead.events.v1.dlq",
      eventId: "evt-dlq-1",
      note: "segment row restored",
    });
    expect(res.statusCode, res.body).toBe(200);
    const result = res.json();
    expect(result).toMatchObject({
      topic: "lead.events.v1",
      redriven: 1,
      reparked: 0,
      handled: [{ eventId: "evt-dlq-1", consumerGroup: "picky" }],
    });
    await waitFor(() => handled.picky.includes("evt-dlq-1"), {
      message: "the parking group to handle the redriven event",
    });
    await waitFor(() => handled.steadySkipped.includes("evt-dlq-1"), {
      message: "the other group to skip it through its inbox",
    });
    expect(handled.steady.filter((id) => id === "evt-dlq-1")).toHaveLength(1);

    const [audit] = await gw.db.db
      .select()
      .from(schema.auditLog)
      .where(eq(schema.auditLog.commandId, result.commandId));
    expect(audit).toMatchObject({
      id: result.auditId,
      commandType: "gateway.dlq_redrive",
      operator: "otto",
      role: "operator",
      subject: "dlq:lead.events.v1",
      result: "applied",
      data: {
        topic: "lead.events.v1",
        selector: { eventId: "evt-dlq-1" },
        note: "segment row restored",
      },
    });
    const after = await dlq(`?topic=${Topics.leadEvents}`);
    expect(after.messages[0]!.redriven).toMatchObject({ by: "otto", auditId: result.auditId });
    expect(after.topics[0]!.waiting).toBe(0);

    // Nothing is left to send again: a second redrive finds nothing and changes nothing.
    const again = await redrive({ topic: "lead.events.v1", eventId: "evt-dlq-1" });
    expect(again.statusCode).toBe(404);
    expect(again.json().message).toMatch(/no pending message matches event id evt-dlq-1/);
    expect((await redrive({ topic: "lead.events.v1", all: true })).statusCode).toBe(404);
    expect(handled.picky.filter((id) => id === "evt-dlq-1")).toHaveLength(1);
  });
});
