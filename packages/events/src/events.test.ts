import { describe, expect, it } from "vitest";
import {
  dlqTopic,
  envelope,
  LeadEvent,
  OperatorCommand,
  OutreachOutcome,
  TopicSchemas,
  Topics,
  typeVersion,
} from "./index.ts";

const contact = {
  id: "ct_123",
  fields: {
    $email: { value: "ada@example.com", valueType: "EMAIL" },
    $name: { value: { firstName: "Ada", lastName: "Lovelace" }, valueType: "FULL_NAME" },
    $title: { value: "VP Engineering", valueType: "TEXT" },
    seatCount: { value: 40, valueType: "NUMBER" },
  },
  relationships: { $account: { objectType: "accounts", cardinality: "one", ids: ["acc_9"] } },
};

describe("events", () => {
  it("accepts a Lightfield contact change with its record verbatim", () => {
    const event = envelope({
      type: "lead.crm_record_changed.v1",
      source: "pw://ingest",
      subject: "lead_ct_123",
      data: {
        source: "lightfield_webhook",
        objectType: "contacts",
        objectId: "ct_123",
        operation: "updated",
        occurredAt: "2026-11-24T10:00:00.000Z",
        record: contact,
        diff: { $title: { from: "Engineer", to: "VP Engineering" } },
        profile: { email: "ada@example.com", firstName: "Ada", title: "VP Engineering" },
      },
    });
    const parsed = LeadEvent.parse(event);
    expect(parsed.type).toBe("lead.crm_record_changed.v1");
    if (parsed.type !== "lead.crm_record_changed.v1") throw new Error("narrowing");
    expect(parsed.data.record.fields.$name?.value).toEqual({
      firstName: "Ada",
      lastName: "Lovelace",
    });
    expect(parsed.data.record.relationships.$account?.ids).toEqual(["acc_9"]);
  });

  it("rejects an event with a precise path and reason", () => {
    const bad = envelope({
      type: "lead.intent_signal.v1",
      source: "pw://ingest",
      subject: "lead 1", // spaces are not allowed in keys
      data: { signal: "pricing_viewed", occurredAt: "yesterday" },
    });
    const result = LeadEvent.safeParse(bad);
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["subject", "data.occurredAt"]));
  });

  it("rejects an unknown type instead of guessing, and knows the forward-compatible one", () => {
    const unknown = envelope({
      type: "lead.teleported.v1",
      source: "x",
      subject: "l1",
      data: {},
    });
    expect(LeadEvent.safeParse(unknown).success).toBe(false);
    const forwarded = envelope({
      type: "outreach.unknown_outcome.v1",
      source: "pw://ingest",
      subject: "l1",
      data: { originalType: "complained", occurredAt: "2026-11-24T10:00:00Z", raw: { a: 1 } },
    });
    expect(OutreachOutcome.parse(forwarded).type).toBe("outreach.unknown_outcome.v1");
  });

  it("validates operator commands by type", () => {
    const ok = envelope({
      type: "operator.kill_switch.v1",
      source: "pw://gateway",
      subject: "operator:global",
      data: { engaged: true, operator: "ops@example.com" },
    });
    expect(OperatorCommand.parse(ok).data).toMatchObject({ engaged: true });
    const missingOperator = { ...ok, data: { engaged: true } };
    expect(OperatorCommand.safeParse(missingOperator).error?.issues[0]?.path).toEqual([
      "data",
      "operator",
    ]);
  });

  it("names every topic once with a schema, and versions come from the type", () => {
    expect(Object.keys(TopicSchemas).sort()).toEqual(Object.values(Topics).sort());
    expect(dlqTopic(Topics.leadEvents)).toBe("lead.events.v1.dlq");
    expect(typeVersion("lead.scored.v1")).toBe(1);
    expect(typeVersion("lead.scored.v12")).toBe(12);
  });
});
