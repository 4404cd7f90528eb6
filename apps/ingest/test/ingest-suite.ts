// The ingest behaviour suite: run on the embedded services (unit) and on a real
// Kafka broker + PostgreSQL (integration).
import { webhookReceipts } from "@pw/db/ingest";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestApp, newSecret, now, type Services, signed, tap } from "./harness.ts";

const contact = (id = "ct_1") => ({
  id,
  fields: {
    $email: { value: "Ada@Example.com", valueType: "EMAIL" },
    $name: { value: { firstName: "Ada", lastName: "Lovelace" }, valueType: "FULL_NAME" },
    $title: { value: "VP Engineering", valueType: "TEXT" },
  },
  relationships: { $account: { objectType: "accounts", cardinality: "one", ids: ["acc_1"] } },
});

/**
 * A contact as LIGHTFIELD.md documents a record (API 2026-03-01): `$email` an array,
 * `$name` FULL_NAME, a SINGLE_SELECT read back as an option id, `$account` with `values`.
 */
const documentedContact = (id = "con_doc_1") => ({
  id,
  createdAt: "2026-11-20T09:00:00.000Z",
  updatedAt: "2026-11-21T09:00:00.000Z",
  httpLink: null,
  externalId: null,
  fields: {
    $email: { value: ["Ada@Example.com", "ada@home.example"], valueType: "EMAIL" },
    $name: { value: { firstName: "Ada", lastName: "Lovelace" }, valueType: "FULL_NAME" },
    $phone: { value: ["+442071234567"], valueType: "TELEPHONE" },
    lifecycleStage: { value: "opt_sql", valueType: "SINGLE_SELECT" },
    $address: { value: { city: "London", country: "GB", street2: null }, valueType: "ADDRESS" },
  },
  relationships: {
    $account: { cardinality: "HAS_ONE", objectType: "accounts", values: ["acc_doc_1"] },
  },
});

/** A workflow's update-trigger output: the object, `occurredAt`, `_diff` with before/after. */
const workflowOutput = (object: unknown = documentedContact()) => ({
  object,
  occurredAt: now(),
  _diff: {
    before: { $name: { firstName: "Ada", lastName: "Byron" } },
    after: { $name: { firstName: "Ada", lastName: "Lovelace" } },
  },
});

type Case = {
  name: string;
  path?: string;
  body?: string | Buffer | unknown;
  sign?: Partial<Parameters<typeof signed>[2]> & { otherSecret?: boolean; signBody?: string };
  headers?: Record<string, string | undefined>;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
  message?: RegExp;
};

const sig = (o: Record<string, unknown> = {}) => ({
  type: "pricing_viewed",
  occurredAt: now(),
  leadId: "lead-1",
  ...o,
});
const out = (o: Record<string, unknown> = {}) => ({
  type: "replied",
  occurredAt: now(),
  leadId: "lead-1",
  ...o,
});
const lf = (o: Record<string, unknown> = {}) => ({
  type: "contact.updated",
  occurredAt: now(),
  object: contact(),
  ...o,
});
const nest = (n: number): unknown => (n === 0 ? 1 : { a: nest(n - 1) });
const tenMinutes = 600;
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** A syntactically fine address of `length` characters (the limit is 254; labels 63). */
const longEmail = (length: number) =>
  `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(length - 65 - 128 - 3)}.io`;

/**
 * Addresses that are right and must pass everywhere an address is checked: RFC 6531
 * (UTF-8 local parts, IDN domains, in Unicode or punycode), sub-addressing, 254 chars.
 */
export const GOOD_EMAILS = [
  "josé@example.com",
  "søren.kierkegaard@example.dk",
  "ada@bücher.de",
  "ada@xn--bcher-kva.de",
  "用户@例子.广告",
  "δοκιμή@παράδειγμα.δοκιμή",
  "ada+news@acme.io",
  longEmail(254),
];

export const BAD_INPUTS: Case[] = [
  {
    name: "text/plain content type",
    body: JSON.stringify(sig()),
    contentType: "text/plain",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "form-encoded content type",
    body: "a=1",
    contentType: "application/x-www-form-urlencoded",
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "body over the limit",
    body: JSON.stringify(sig({ properties: { pad: "x".repeat(300 * 1024) } })),
    status: 413,
    code: "body_too_large",
  },
  { name: "empty body", body: "", status: 400, code: "empty_body" },
  {
    name: "invalid UTF-8",
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    status: 400,
    code: "invalid_utf8",
  },
  {
    name: "missing webhook-signature",
    body: sig(),
    headers: { "webhook-signature": undefined },
    status: 401,
    code: "invalid_signature",
    message: /webhook-signature/,
  },
  {
    name: "missing webhook-id",
    body: sig(),
    headers: { "webhook-id": undefined },
    status: 401,
    code: "invalid_signature",
    message: /webhook-id/,
  },
  {
    name: "missing webhook-timestamp",
    body: sig(),
    headers: { "webhook-timestamp": undefined },
    status: 401,
    code: "invalid_signature",
    message: /webhook-timestamp/,
  },
  {
    name: "signed with another secret",
    body: sig(),
    sign: { otherSecret: true },
    status: 401,
    code: "invalid_signature",
    message: /does not match/,
  },
  {
    name: "body changed after signing",
    body: sig({ leadId: "lead-2" }),
    sign: { signBody: JSON.stringify(sig()) },
    status: 401,
    code: "invalid_signature",
  },
  {
    name: "stale timestamp (10 minutes old)",
    body: sig(),
    sign: { timestamp: Math.floor(Date.now() / 1000) - tenMinutes },
    status: 401,
    code: "invalid_signature",
    message: /tolerance/,
  },
  {
    name: "timestamp 10 minutes in the future",
    body: sig(),
    sign: { timestamp: Math.floor(Date.now() / 1000) + tenMinutes },
    status: 401,
    code: "invalid_signature",
    message: /tolerance/,
  },
  {
    name: "non-numeric timestamp",
    body: sig(),
    headers: { "webhook-timestamp": "yesterday" },
    status: 401,
    code: "invalid_signature",
    message: /Unix seconds/,
  },
  {
    name: "webhook-id over 200 characters",
    body: sig(),
    sign: { id: "x".repeat(300) },
    status: 400,
    code: "invalid_header",
  },
  {
    name: "webhook-id of 201 characters",
    body: sig(),
    sign: { id: "y".repeat(201) },
    status: 400,
    code: "invalid_header",
  },
  {
    name: "byte-order mark added after signing",
    body: Buffer.concat([BOM, Buffer.from(JSON.stringify(sig()))]),
    sign: { signBody: JSON.stringify(sig()) },
    status: 401,
    code: "invalid_signature",
  },
  { name: "malformed JSON", body: '{"type": "pricing_viewed",', status: 400, code: "invalid_json" },
  { name: "array body", body: [sig()], status: 400, code: "invalid_body", message: /array/ },
  { name: "string body", body: '"hello"', status: 400, code: "invalid_body", message: /string/ },
  { name: "null body", body: null, status: 400, code: "invalid_body", message: /null/ },
  {
    name: "__proto__ key (prototype pollution)",
    body: '{"type":"pricing_viewed","__proto__":{"admin":true}}',
    status: 400,
    code: "forbidden_key",
  },
  {
    name: "constructor.prototype key",
    body: '{"type":"pricing_viewed","constructor":{"prototype":{"admin":true}}}',
    status: 400,
    code: "forbidden_key",
  },
  {
    name: "nesting 100 levels deep",
    body: sig({ properties: nest(100) }),
    status: 400,
    code: "too_deep",
  },
  {
    name: "signal without type",
    body: { occurredAt: now(), leadId: "l" },
    status: 400,
    code: "invalid_body",
    field: "type",
  },
  {
    name: "signal type with spaces",
    body: sig({ type: "Pricing Viewed" }),
    status: 400,
    code: "invalid_body",
    field: "type",
  },
  {
    name: "occurredAt not a timestamp",
    body: sig({ occurredAt: "last tuesday" }),
    status: 400,
    code: "invalid_body",
    field: "occurredAt",
  },
  {
    name: "occurredAt of the wrong type",
    body: sig({ occurredAt: 1732442400 }),
    status: 400,
    code: "invalid_body",
    field: "occurredAt",
  },
  {
    name: "signal about nobody",
    body: sig({ leadId: undefined }),
    status: 400,
    code: "invalid_body",
    field: "leadId",
  },
  {
    name: "invalid e-mail",
    body: sig({ leadId: undefined, email: "not-an-email" }),
    status: 400,
    code: "invalid_body",
    field: "email",
  },
  ...[
    "ada@@acme.io",
    "ada lovelace@acme.io",
    "@acme.io",
    "ada@",
    "ada@acme@io.com",
    "ada@acme",
    "ada..lovelace@acme.io",
    "ada@-acme.io",
    longEmail(255),
  ].map((email) => ({
    name: `e-mail address ${JSON.stringify(email.length > 40 ? `${email.length} characters` : email)}`,
    body: sig({ leadId: undefined, email }),
    status: 400,
    code: "invalid_body",
    field: "email",
  })),
  {
    name: "e-mail in the profile that is not one",
    body: sig({ profile: { email: "ada at acme.io" } }),
    status: 400,
    code: "invalid_body",
    field: "profile.email",
  },
  {
    name: "url that is not a URL",
    body: sig({ url: "pricing page" }),
    status: 400,
    code: "invalid_body",
    field: "url",
  },
  {
    name: "javascript: URL in a signal",
    body: sig({ url: "javascript:alert(document.cookie)" }),
    status: 400,
    code: "invalid_body",
    field: "url",
  },
  {
    name: "file: URL in a signal",
    body: sig({ url: "file:///etc/passwd" }),
    status: 400,
    code: "invalid_body",
    field: "url",
  },
  {
    name: "data: URL in an outcome",
    path: "/webhooks/outcomes",
    body: out({ type: "clicked", url: "data:text/html,<script>alert(1)</script>" }),
    status: 400,
    code: "invalid_body",
    field: "url",
  },
  {
    name: "javascript: URL in an outcome",
    path: "/webhooks/outcomes",
    body: out({ type: "clicked", url: "javascript://%0aalert(1)" }),
    status: 400,
    code: "invalid_body",
    field: "url",
  },
  {
    name: "signal dated an hour in the future",
    body: sig({ occurredAt: inAnHour() }),
    status: 400,
    code: "invalid_body",
    field: "occurredAt",
    message: /future/,
  },
  {
    name: "outcome dated in the year 9999",
    path: "/webhooks/outcomes",
    body: out({ occurredAt: "9999-12-31T23:59:59Z" }),
    status: 400,
    code: "invalid_body",
    field: "occurredAt",
  },
  {
    name: "Lightfield event dated an hour in the future (as an offset)",
    path: "/webhooks/lightfield",
    body: lf({
      occurredAt: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "+00:00"),
    }),
    status: 400,
    code: "invalid_body",
    field: "occurredAt",
  },
  {
    name: "huge string in properties",
    body: sig({ properties: { note: "y".repeat(3_000) } }),
    status: 400,
    code: "invalid_body",
    field: "properties.note",
  },
  {
    name: "object as a property value",
    body: sig({ properties: { plan: { tier: "pro" } } }),
    status: 400,
    code: "invalid_body",
    field: "properties.plan",
  },
  {
    name: "lead id with spaces",
    body: sig({ leadId: "lead 1" }),
    status: 400,
    code: "invalid_body",
    field: "leadId",
  },
  {
    name: "outcome without leadId",
    path: "/webhooks/outcomes",
    body: out({ leadId: undefined }),
    status: 400,
    code: "invalid_body",
    field: "leadId",
  },
  {
    name: "outcome with unknown bounce type",
    path: "/webhooks/outcomes",
    body: out({ type: "bounced", bounceType: "medium" }),
    status: 400,
    code: "invalid_body",
    field: "bounceType",
  },
  {
    name: "reply text over 20,000 characters",
    path: "/webhooks/outcomes",
    body: out({ replyText: "z".repeat(25_000) }),
    status: 400,
    code: "invalid_body",
    field: "replyText",
  },
  {
    name: "Lightfield event without its object",
    path: "/webhooks/lightfield",
    body: lf({ object: undefined }),
    status: 400,
    code: "invalid_body",
    field: "object",
  },
  {
    name: "Lightfield field without valueType",
    path: "/webhooks/lightfield",
    body: lf({ object: { ...contact(), fields: { $email: { value: "a@b.co" } } } }),
    status: 400,
    code: "invalid_body",
    field: "object.fields.$email.valueType",
  },
  {
    name: "Lightfield field name that is not one",
    path: "/webhooks/lightfield",
    body: lf({
      object: { ...contact(), fields: { "bad key!": { value: 1, valueType: "NUMBER" } } },
    }),
    status: 400,
    code: "invalid_body",
    field: "object.fields.bad key!",
  },
  {
    name: "Lightfield objectType contradicting type",
    path: "/webhooks/lightfield",
    body: lf({ objectType: "accounts" }),
    status: 400,
    code: "invalid_body",
    field: "objectType",
  },
  {
    name: "Lightfield meeting about no contact",
    path: "/webhooks/lightfield",
    body: lf({ type: "meeting.created", object: { id: "m1", fields: {}, relationships: {} } }),
    status: 400,
    code: "invalid_body",
    field: "object.relationships",
  },
  {
    name: "Lightfield body that names no type, and no ?type= in the URL",
    path: "/webhooks/lightfield",
    body: { data: workflowOutput() },
    status: 400,
    code: "invalid_body",
    field: "type",
    message: /`type`.*\?type=/,
  },
  {
    name: "Lightfield object id of the wrong type",
    path: "/webhooks/lightfield",
    body: lf({ object: { ...contact(), id: 42 } }),
    status: 400,
    code: "invalid_body",
    field: "object.id",
  },
];

export function ingestSuite(name: string, makeServices: () => Promise<Services>) {
  describe(`ingest: ${name}`, () => {
    let services: Services;
    let secret: string;
    let app: Awaited<ReturnType<typeof ingestApp>>;
    let topic: Awaited<ReturnType<typeof tap>>;
    beforeAll(async () => {
      services = await makeServices();
      secret = newSecret();
      app = await ingestApp(services, [secret]);
      await app.ready();
      topic = await tap(services.bus);
    });
    afterAll(async () => {
      await topic?.close();
      await app?.close();
      await services?.close();
    });

    function send(c: {
      path?: string;
      body?: unknown;
      sign?: Case["sign"];
      headers?: Case["headers"];
      contentType?: string;
    }) {
      const raw =
        c.body === undefined
          ? ""
          : typeof c.body === "string" || Buffer.isBuffer(c.body)
            ? c.body
            : JSON.stringify(c.body);
      const useSecret = c.sign?.otherSecret ? newSecret() : secret;
      const req = signed(c.path ?? "/webhooks/signals", c.sign?.signBody ?? raw, {
        secret: useSecret,
        ...(c.sign?.id ? { id: c.sign.id } : {}),
        ...(c.sign?.timestamp ? { timestamp: c.sign.timestamp } : {}),
        headers: c.headers,
        contentType: c.contentType,
      });
      return app.inject({ ...req, payload: raw });
    }

    it(`rejects ${BAD_INPUTS.length} kinds of bad input with the precise status, code and field — and publishes none`, async () => {
      const before = topic.messages.length;
      const failures: string[] = [];
      for (const c of BAD_INPUTS) {
        const res = await send(c);
        const body = res.json() as {
          error?: { code: string; message: string; issues?: { path: string }[] };
        };
        const problems: string[] = [];
        if (res.statusCode !== c.status) problems.push(`status ${res.statusCode} ≠ ${c.status}`);
        if (body.error?.code !== c.code) problems.push(`code ${body.error?.code} ≠ ${c.code}`);
        if (c.field && !body.error?.issues?.some((i) => i.path === c.field)) {
          problems.push(
            `no issue at ${c.field} (got ${JSON.stringify(body.error?.issues?.map((i) => i.path))})`,
          );
        }
        if (c.message && !c.message.test(body.error?.message ?? ""))
          problems.push(`message "${body.error?.message}" !~ ${c.message}`);
        if (problems.length) failures.push(`${c.name}: ${problems.join("; ")}`);
      }
      expect(failures).toEqual([]);
      expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
      // A valid request afterwards proves the tap works; nothing before it was published.
      const ok = await send({ body: sig({ leadId: "after-bad-inputs" }) });
      expect(ok.statusCode).toBe(202);
      await waitFor(() => topic.messages.length > before, {
        timeoutMs: 20_000,
        message: "the valid event",
      });
      expect(topic.messages.slice(before).map((m) => m.key)).toEqual(["after-bad-inputs"]);
    });

    it("publishes each route's event to its topic with the lead as key, and answers 202 after the ack", async () => {
      const before = topic.messages.length;
      const a = await send({ path: "/webhooks/lightfield", body: lf() });
      const b = await send({
        body: sig({
          leadId: undefined,
          email: "Grace@Example.com",
          url: "https://acme.io/pricing",
        }),
      });
      const c = await send({
        path: "/webhooks/outcomes",
        body: out({ replyText: "Sounds good, call me", dispatchId: "d1" }),
      });
      expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([202, 202, 202]);
      await waitFor(() => topic.messages.length >= before + 3, {
        timeoutMs: 20_000,
        message: "three events",
      });
      const got = topic.messages
        .slice(before)
        .map((m) => ({ topic: m.topic, key: m.key, event: JSON.parse(m.value) }));
      const crm = got.find((g) => g.event.type === "lead.crm_record_changed.v1")!;
      expect(crm).toMatchObject({ topic: "lead.events.v1", key: "lf_ct_1" });
      expect(crm.event.data.profile).toMatchObject({
        email: "ada@example.com",
        firstName: "Ada",
        title: "VP Engineering",
        accountId: "acc_1",
      });
      expect(crm.event.id).toBe(a.json().eventId);
      expect(got.find((g) => g.event.type === "lead.intent_signal.v1")).toMatchObject({
        key: "email:grace@example.com",
      });
      expect(got.find((g) => g.topic === "outreach.outcomes.v1")?.event.data).toMatchObject({
        outcome: "replied",
        dispatchId: "d1",
      });
    });

    it("acknowledges a repeated webhook-id once and does not publish it again", async () => {
      const before = topic.messages.length;
      const raw = JSON.stringify(sig({ leadId: "dup-lead" }));
      const req = signed("/webhooks/signals", raw, { secret, id: "msg_dup_1" });
      const first = await app.inject(req);
      const concurrent = await Promise.all([app.inject(req), app.inject(req)]);
      const later = await app.inject(req);
      expect(first.statusCode).toBe(202);
      for (const r of [...concurrent, later]) {
        expect(r.statusCode).toBe(200);
        expect(r.json()).toMatchObject({ duplicate: true, eventId: first.json().eventId });
      }
      await send({ body: sig({ leadId: "dup-sentinel" }) });
      await waitFor(() => topic.messages.slice(before).some((m) => m.key === "dup-sentinel"), {
        timeoutMs: 20_000,
        message: "sentinel",
      });
      expect(topic.messages.slice(before).filter((m) => m.key === "dup-lead")).toHaveLength(1);
    });

    it("keeps the dedupe across a restart (it is in the database)", async () => {
      const raw = JSON.stringify(sig({ leadId: "restart-lead" }));
      const req = signed("/webhooks/signals", raw, { secret, id: "msg_restart_1" });
      expect((await app.inject(req)).statusCode).toBe(202);
      const restarted = await ingestApp(services, [secret]);
      const again = await restarted.inject(req);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ duplicate: true });
      await restarted.close();
    });

    it("dedupes per route: the same webhook-id on another route is another message", async () => {
      const before = topic.messages.length;
      const id = "msg_shared_across_routes";
      const viaLightfield = () =>
        app.inject(
          signed("/webhooks/lightfield", JSON.stringify(lf({ object: contact("ct_routes") })), {
            secret,
            id,
          }),
        );
      const viaSignals = () =>
        app.inject(
          signed("/webhooks/signals", JSON.stringify(sig({ leadId: "routes-lead" })), {
            secret,
            id,
          }),
        );
      const first = await viaLightfield();
      const second = await viaSignals();
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(second.json().eventId).not.toBe(first.json().eventId);
      const again = [await viaSignals(), await viaLightfield()];
      expect(again.map((r) => r.statusCode)).toEqual([200, 200]);
      expect(again.map((r) => r.json().eventId)).toEqual([
        second.json().eventId,
        first.json().eventId,
      ]);
      await waitFor(() => topic.messages.length >= before + 2, {
        timeoutMs: 20_000,
        message: "both events",
      });
      await send({ body: sig({ leadId: "routes-sentinel" }) });
      await waitFor(() => topic.messages.slice(before).some((m) => m.key === "routes-sentinel"), {
        timeoutMs: 20_000,
        message: "sentinel",
      });
      expect(
        topic.messages
          .slice(before)
          .map((m) => m.key)
          .filter((k) => k !== "routes-sentinel")
          .sort(),
      ).toEqual(["lf_ct_routes", "routes-lead"]);
    });

    it("still dedupes a redelivery of a message received before receipts were per route", async () => {
      // A receipt as ingest wrote it before: keyed by the bare webhook-id.
      await services.db.db.insert(webhookReceipts).values({
        webhookId: "msg_before_upgrade",
        source: "signals",
        eventId: "wh_msg_before_upgrade",
      });
      const body = JSON.stringify(sig({ leadId: "upgrade-lead" }));
      const same = await app.inject(
        signed("/webhooks/signals", body, { secret, id: "msg_before_upgrade" }),
      );
      expect(same.statusCode).toBe(200);
      expect(same.json()).toMatchObject({ duplicate: true, eventId: "wh_msg_before_upgrade" });
      // …on its own route only.
      const other = await app.inject(
        signed("/webhooks/outcomes", JSON.stringify(out({ leadId: "upgrade-lead" })), {
          secret,
          id: "msg_before_upgrade",
        }),
      );
      expect(other.statusCode).toBe(202);
      // On the topic before the next test counts what lands there.
      await waitFor(
        () => topic.messages.some((m) => JSON.parse(m.value).id === other.json().eventId),
        { timeoutMs: 20_000, message: "the outcome accepted on its own route" },
      );
    });

    it("accepts a webhook-id of up to 200 characters end to end, and dedupes its redelivery", async () => {
      const before = topic.messages.length;
      const ids = [198, 199, 200].map((n) => `msg_${"z".repeat(n - 4)}`);
      const first = await Promise.all(
        ids.map((id, i) =>
          app.inject(
            signed("/webhooks/signals", JSON.stringify(sig({ leadId: `long-id-${i}` })), {
              secret,
              id,
            }),
          ),
        ),
      );
      expect(first.map((r) => [r.statusCode, r.json().error?.message])).toEqual([
        [202, undefined],
        [202, undefined],
        [202, undefined],
      ]);
      const eventIds = first.map((r) => r.json().eventId as string);
      expect(new Set(eventIds).size).toBe(3);
      for (const e of eventIds) expect(e.length).toBeLessThanOrEqual(200);
      const again = await app.inject(
        signed("/webhooks/signals", JSON.stringify(sig({ leadId: "long-id-2" })), {
          secret,
          id: ids[2],
        }),
      );
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ duplicate: true, eventId: eventIds[2] });
      await waitFor(() => topic.messages.length >= before + 3, {
        timeoutMs: 20_000,
        message: "three events",
      });
      expect(
        topic.messages
          .slice(before)
          .map((m) => JSON.parse(m.value).id)
          .sort(),
      ).toEqual([...eventIds].sort());
    });

    it("verifies a body with a UTF-8 byte-order mark over the bytes as sent, then parses it", async () => {
      const before = topic.messages.length;
      const raw = Buffer.concat([BOM, Buffer.from(JSON.stringify(sig({ leadId: "bom-lead" })))]);
      const res = await app.inject({
        ...signed("/webhooks/signals", raw, { secret }),
        payload: raw,
      });
      expect(res.statusCode).toBe(202);
      await waitFor(() => topic.messages.slice(before).some((m) => m.key === "bom-lead"), {
        timeoutMs: 20_000,
        message: "the BOM body's event",
      });
    });

    it("accepts internationalised e-mail addresses on signals, in profiles and from the CRM", async () => {
      const refused: string[] = [];
      const eventIds: string[] = [];
      const post = async (path: string, body: unknown, what: string) => {
        const res = await send({ path, body });
        if (res.statusCode === 202) eventIds.push(res.json().eventId);
        else refused.push(`${what}: ${res.statusCode} ${res.body}`);
        return res.json().eventId as string;
      };
      for (const [i, email] of GOOD_EMAILS.entries()) {
        await post("/webhooks/signals", sig({ leadId: undefined, email }), `${email} as the lead`);
        await post(
          "/webhooks/signals",
          sig({ leadId: `idn-${i}`, type: "form_submitted", profile: { email } }),
          `${email} in a profile`,
        );
        const fields = { ...contact().fields, $email: { value: email, valueType: "EMAIL" } };
        await post(
          "/webhooks/lightfield",
          lf({ object: { ...contact(`ct_idn_${i}`), fields } }),
          `${email} from the CRM`,
        );
      }
      // The same address however it is written (case, Unicode or punycode domain) is one lead.
      const spellings = ["JOSÉ@Example.COM", "ada@BÜCHER.de"];
      for (const email of spellings)
        await post("/webhooks/signals", sig({ leadId: undefined, email }), email);
      expect(refused).toEqual([]);
      type Published = { id: string; subject: string; data: { profile?: { email?: string } } };
      const events = await waitFor(
        (): Published[] | false => {
          const byId = new Map<string, Published>(
            topic.messages.map((m) => [JSON.parse(m.value).id, JSON.parse(m.value)]),
          );
          if (!eventIds.every((id) => byId.has(id))) return false;
          return eventIds.map((id) => byId.get(id)!);
        },
        { timeoutMs: 20_000, message: "every event" },
      );
      if (!events) throw new Error("unreachable: waitFor returns only a truthy value");
      // Every address reached the topic, lower-cased, on all three paths.
      const carried = GOOD_EMAILS.map((_, i) =>
        events.slice(3 * i, 3 * i + 3).map((e) => e.data.profile?.email),
      );
      expect(carried).toEqual(GOOD_EMAILS.map((e) => [e, e, e].map((x) => x.toLowerCase())));
      const leadOf = (n: number) => events[3 * n]!.subject;
      const [upper, mixed] = events.slice(-2).map((e) => e.subject);
      expect([upper, mixed]).toEqual([leadOf(0), leadOf(2)]);
      // …and the punycode spelling of bücher.de is the same lead as the Unicode one.
      expect(leadOf(3)).toBe(leadOf(2));
    });

    it("accepts http(s) URLs and timestamps within the clock-skew allowance", async () => {
      const inTwoMinutes = new Date(Date.now() + 120_000).toISOString();
      const statuses = [
        await send({ body: sig({ url: "https://acme.io/pricing?plan=pro#faq" }) }),
        await send({ body: sig({ url: "http://localhost:3000/pricing" }) }),
        await send({ body: sig({ url: "HTTPS://ACME.IO/" }) }),
        await send({
          path: "/webhooks/outcomes",
          body: out({ type: "clicked", url: "https://bücher.de/x" }),
        }),
        await send({ body: sig({ occurredAt: inTwoMinutes }) }),
        await send({ path: "/webhooks/outcomes", body: out({ occurredAt: inTwoMinutes }) }),
        await send({ path: "/webhooks/lightfield", body: lf({ occurredAt: inTwoMinutes }) }),
      ].map((r) => r.statusCode);
      expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 202]);
      // The allowance is an option: an hour ahead passes when an hour is allowed.
      const lenient = await ingestApp(services, [secret], { maxFutureSkewMs: 2 * 3_600_000 });
      const res = await lenient.inject(
        signed("/webhooks/signals", JSON.stringify(sig({ occurredAt: inAnHour() })), { secret }),
      );
      expect(res.statusCode).toBe(202);
      await lenient.close();
    });

    it("forwards an unknown event type of a known source with its raw payload", async () => {
      const before = topic.messages.length;
      const res = await send({
        body: sig({ type: "webinar_attended", properties: { title: "Q4 roadmap" } }),
      });
      const res2 = await send({ path: "/webhooks/outcomes", body: out({ type: "complained" }) });
      expect([res.statusCode, res2.statusCode]).toEqual([202, 202]);
      // Wait for the two events themselves: a late message of an earlier case must not count.
      const forwarded = () => topic.messages.slice(before).map((m) => JSON.parse(m.value));
      await waitFor(
        () =>
          forwarded().some((e) => e.type === "lead.unknown_event.v1") &&
          forwarded().some((e) => e.type === "outreach.unknown_outcome.v1"),
        { timeoutMs: 20_000, message: "forwarded events" },
      );
      const events = forwarded();
      expect(events.find((e) => e.type === "lead.unknown_event.v1")?.data).toMatchObject({
        originalType: "webinar_attended",
        raw: { properties: { title: "Q4 roadmap" } },
      });
      expect(events.find((e) => e.type === "outreach.unknown_outcome.v1")?.data.originalType).toBe(
        "complained",
      );
    });

    /** A published event as JSON decodes it; the tests read it field by field. */
    type Decoded = ReturnType<typeof JSON.parse>;

    /** Posts each body to its path, then waits for and returns their events in order. */
    async function publishedFor(posts: { path: string; body: unknown }[]) {
      const ids: string[] = [];
      for (const p of posts) {
        const res = await send(p);
        expect(res.statusCode, `${p.path} ${JSON.stringify(p.body)}: ${res.body}`).toBe(202);
        ids.push(res.json().eventId);
      }
      const events = await waitFor(
        (): Decoded[] | false => {
          const byId = new Map(
            topic.messages.map((m) => [JSON.parse(m.value).id, JSON.parse(m.value)]),
          );
          return ids.every((id) => byId.has(id)) && ids.map((id) => byId.get(id));
        },
        { timeoutMs: 20_000, message: "the events" },
      );
      if (!events) throw new Error("unreachable");
      return events;
    }

    it("reads a documented contact posted as a workflow posts it (wrapped, ?type=, _diff) into a lead event", async () => {
      const [event] = await publishedFor([
        {
          path: "/webhooks/lightfield?type=contact.updated",
          body: { id: "run_42", data: workflowOutput() },
        },
      ]);
      expect(event).toMatchObject({ type: "lead.crm_record_changed.v1", subject: "lf_con_doc_1" });
      expect(event.data).toMatchObject({
        source: "lightfield_webhook",
        objectType: "contacts",
        operation: "updated",
        sourceEventId: "run_42",
        diff: {
          $name: {
            from: { firstName: "Ada", lastName: "Byron" },
            to: { firstName: "Ada", lastName: "Lovelace" },
          },
        },
        profile: {
          email: "ada@example.com",
          emails: ["Ada@Example.com", "ada@home.example"],
          phones: ["+442071234567"],
          firstName: "Ada",
          lastName: "Lovelace",
          accountId: "acc_doc_1",
          country: "GB",
          timezone: "Europe/London",
          // The webhook path has no definitions: the select keeps its option id.
          stage: "opt_sql",
        },
      });
      expect(event.data.record.relationships.$account).toEqual({
        cardinality: "has_one",
        objectType: "accounts",
        values: ["acc_doc_1"],
      });
    });

    it("tolerates each shape workflows and relays post", async () => {
      const c = (id: string, relationships?: unknown) => ({
        ...documentedContact(id),
        ...(relationships ? { relationships } : {}),
      });
      const posts = [
        {
          path: "/webhooks/lightfield",
          body: { type: "contact.updated", ...workflowOutput(c("con_t1")) },
        },
        {
          path: "/webhooks/lightfield",
          body: { trigger: "Contact Updated", ...workflowOutput(c("con_t2")) },
        },
        {
          path: "/webhooks/lightfield",
          body: { objectType: "contact", change: "update", ...workflowOutput(c("con_t3")) },
        },
        {
          path: "/webhooks/lightfield?type=contact.updated",
          body: { payload: workflowOutput(c("con_t4")) },
        },
        {
          path: "/webhooks/lightfield?type=contact.updated",
          body: { output: workflowOutput(c("con_t5")) },
        },
        // The body is the object itself, with occurredAt beside its fields; no diff at all.
        {
          path: "/webhooks/lightfield?type=contact.created",
          body: { ...c("con_t6"), occurredAt: now() },
        },
        {
          path: "/webhooks/lightfield?type=contact.updated",
          body: { ...workflowOutput(c("con_t7", { $account: ["acc_doc_1"] })), _diff: null },
        },
        {
          path: "/webhooks/lightfield?type=contact.updated",
          body: {
            ...workflowOutput(c("con_t8", { $account: "acc_doc_1" })),
            _diff: undefined,
            diff: { lifecycleStage: { from: "opt_mql", to: "opt_sql" } },
          },
        },
        {
          path: "/webhooks/lightfield",
          body: {
            type: "contact.updated",
            ...workflowOutput(
              c("con_t9", { $account: { objectType: "accounts", ids: ["acc_doc_1"] } }),
            ),
          },
        },
        // The body says the type: it wins over the query.
        {
          path: "/webhooks/lightfield?type=account.deleted",
          body: { type: "contact.updated", ...workflowOutput(c("con_t10")) },
        },
      ];
      const events = await publishedFor(posts);
      expect(
        events.map((e) => [
          e.type,
          e.subject,
          e.data.operation,
          e.data.profile.accountId,
          e.data.profile.email,
        ]),
      ).toEqual(
        events.map((_, i) => [
          "lead.crm_record_changed.v1",
          `lf_con_t${i + 1}`,
          i === 5 ? "created" : "updated",
          "acc_doc_1",
          "ada@example.com",
        ]),
      );
      expect(events[5].data.diff).toBeUndefined();
      expect(events[6].data.diff).toBeUndefined();
      expect(events[7].data.diff).toEqual({ lifecycleStage: { from: "opt_mql", to: "opt_sql" } });
      for (const i of [6, 7, 8])
        expect(events[i].data.record.relationships.$account.values).toEqual(["acc_doc_1"]);
    });

    it("forwards an unknown event type with every field it came with", async () => {
      const body = {
        type: "contact.merged",
        occurredAt: now(),
        object: documentedContact("con_merged"),
        mergedInto: "con_doc_1",
        actor: { memberId: "mem_1" },
      };
      const [lightfield, signal, outcome] = await publishedFor([
        { path: "/webhooks/lightfield", body },
        { path: "/webhooks/signals", body: sig({ type: "webinar_attended", webinarId: "w_7" }) },
        { path: "/webhooks/outcomes", body: out({ type: "complained", feedbackLoop: "isp_1" }) },
      ]);
      expect(lightfield.type).toBe("lead.unknown_event.v1");
      expect(lightfield.subject).toBe("lf_con_merged");
      expect(lightfield.data.raw).toEqual(body);
      expect(signal.data.raw).toMatchObject({ webinarId: "w_7" });
      expect(outcome.data.raw).toMatchObject({ feedbackLoop: "isp_1" });
    });

    it("accepts any of several secrets while one is being rotated", async () => {
      const next = newSecret();
      const rotating = await ingestApp(services, [secret, next]);
      const res = await rotating.inject(
        signed("/webhooks/signals", JSON.stringify(sig()), { secret: next }),
      );
      expect(res.statusCode).toBe(202);
      await rotating.close();
    });

    it("rate-limits a client past its budget with 429 and Retry-After", async () => {
      const limited = await ingestApp(services, [secret], { rateLimitPerSecond: 3 });
      // All six at once: sent one after another, each waiting for the broker's ack, they
      // could straddle a window boundary on a slow machine and never exceed the budget.
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          limited.inject(
            signed("/webhooks/signals", JSON.stringify(sig({ leadId: `rl-${i}` })), { secret }),
          ),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      const retryAfter = responses.find((r) => r.statusCode === 429)?.headers["retry-after"];
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
      expect(retryAfter).toBe("1");
      await limited.close();
    });

    it("serves health, readiness, Prometheus metrics and the OpenAPI document", async () => {
      expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
      const ready = await app.inject({ url: "/readyz" });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        service: "ingest",
        status: "ready",
        checks: {
          broker: { status: "ok", required: true },
          database: { status: "ok", required: true },
          lightfield_poller: { status: "not_configured", required: false },
        },
      });
      const metrics = await app.inject({ url: "/metrics" });
      expect(metrics.body).toMatch(
        /pw_ingest_requests_total\{route="\/webhooks\/signals",status="202",service="ingest"\} \d+/,
      );
      expect(metrics.body).toMatch(
        /pw_ingest_dedupe_hits_total\{route="signals",service="ingest"\} [1-9]/,
      );
      expect(metrics.body).toContain("pw_ingest_publish_seconds_bucket");
      const doc = (await app.inject({ url: "/openapi.json" })).json();
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(["/webhooks/lightfield", "/webhooks/signals", "/webhooks/outcomes"]),
      );
      expect(
        doc.paths["/webhooks/signals"].post.requestBody.content["application/json"].schema
          .properties.occurredAt,
      ).toBeDefined();
      const docs = await app.inject({ url: "/docs" });
      expect(docs.headers["content-type"]).toContain("text/html");
      expect(docs.body).toContain("POST /webhooks/outcomes");
    });
  });
}
