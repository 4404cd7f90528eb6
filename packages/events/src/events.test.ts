import { describe, expect, it } from "vitest";
import {
  dlqTopic,
  envelope,
  LeadEvent,
  LeadScored,
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
    expect(parsed.data.record.relationships.$account).toMatchObject({ ids: ["acc_9"] });
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

  it("takes internationalised e-mail addresses wherever an address is validated, and refuses garbage", () => {
    const withEmail = (email: string) => [
      LeadEvent.safeParse(
        envelope({
          type: "lead.intent_signal.v1",
          source: "pw://ingest",
          subject: "l1",
          data: {
            signal: "form_submitted",
            occurredAt: "2026-11-24T10:00:00Z",
            profile: { email },
          },
        }),
      ),
      LeadEvent.safeParse(
        envelope({
          type: "lead.crm_record_changed.v1",
          source: "pw://ingest",
          subject: "l1",
          data: {
            source: "lightfield_webhook",
            objectType: "contacts",
            objectId: "ct_1",
            operation: "updated",
            occurredAt: "2026-11-24T10:00:00Z",
            record: { id: "ct_1", fields: {}, relationships: {} },
            profile: { email },
          },
        }),
      ),
      LeadScored.safeParse(
        envelope({
          type: "lead.scored.v1",
          source: "pw://scoring",
          subject: "l1",
          data: {
            score: 50,
            tier: "warm",
            segment: "s",
            reasons: [],
            facts: { email },
            model: { scorer: "builtin", version: "v1" },
            contactable: true,
            scoredAt: "2026-11-24T10:00:00Z",
          },
        }),
      ),
    ];
    const long = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(58)}.io`;
    expect(long).toHaveLength(254);
    const good = [
      "josé@example.com",
      "søren@example.dk",
      "ada@bücher.de",
      "ada@xn--bcher-kva.de",
      "用户@例子.广告",
      "δοκιμή@παράδειγμα.δοκιμή",
      "ada+news@acme.io",
      long,
    ];
    const bad = [
      "ada.example.com",
      "ada lovelace@acme.io",
      "ada@@acme.io",
      "ada@acme@io.com",
      "@acme.io",
      "ada@",
      "ada..b@acme.io",
      `${long}x`,
    ];
    const verdicts = (list: string[]) =>
      list.map((e) => `${e.slice(0, 30)}: ${withEmail(e).map((r) => r.success)}`);
    expect(verdicts(good)).toEqual(good.map((e) => `${e.slice(0, 30)}: true,true,true`));
    expect(verdicts(bad)).toEqual(bad.map((e) => `${e.slice(0, 30)}: false,false,false`));
    const refused = withEmail("ada@@acme.io")[0]!;
    expect(refused.error?.issues.map((i) => i.path.join("."))).toEqual(["data.profile.email"]);
  });

  it("takes only http(s) URLs in signals and outcomes, naming the field otherwise", () => {
    const signal = (url: string) =>
      LeadEvent.safeParse(
        envelope({
          type: "lead.intent_signal.v1",
          source: "pw://ingest",
          subject: "l1",
          data: { signal: "page_viewed", occurredAt: "2026-11-24T10:00:00Z", url },
        }),
      );
    const outcome = (url: string) =>
      OutreachOutcome.safeParse(
        envelope({
          type: "outreach.outcome.v1",
          source: "pw://ingest",
          subject: "l1",
          data: { outcome: "clicked", occurredAt: "2026-11-24T10:00:00Z", url },
        }),
      );
    for (const url of ["https://acme.io/pricing", "http://localhost:3000/x", "HTTPS://ACME.IO"]) {
      expect([signal(url).success, outcome(url).success], url).toEqual([true, true]);
    }
    for (const url of ["javascript:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd"]) {
      const paths = [signal(url), outcome(url)].map((r) =>
        r.error?.issues.map((i) => i.path.join(".")),
      );
      expect(paths, url).toEqual([["data.url"], ["data.url"]]);
    }
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
