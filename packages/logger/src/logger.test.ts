import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, eventLogger, redactText } from "./index.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, destination };
}

describe("logger", () => {
  it("writes JSON with the service name and redacts secrets and message bodies", () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: "ingest", destination });
    log.info(
      {
        apiKey: "sk_lf_live_123",
        vendor: { token: "t0k", name: "stackai" },
        email: { subject: "Hi", body: "private text" },
        req: { headers: { authorization: "Bearer abc", "webhook-signature": "v1,xyz" } },
      },
      "hello",
    );
    const line = lines[0]!;
    expect(line).toMatchObject({ service: "ingest", level: "info", msg: "hello" });
    const text = JSON.stringify(line);
    for (const secret of ["sk_lf_live_123", "t0k", "private text", "Bearer abc", "v1,xyz"]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain("stackai");
    expect(text).toContain('"subject":"Hi"');
  });

  it("child loggers carry event, lead and trace ids", () => {
    const { lines, destination } = capture();
    const log = eventLogger(createLogger({ service: "scoring", destination }), {
      eventId: "e1",
      leadId: "lead_1",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    log.warn("scored");
    expect(lines[0]).toMatchObject({
      eventId: "e1",
      leadId: "lead_1",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
  });

  it("scrubs secrets from free text", () => {
    expect(redactText("auth Bearer abc.def failed for postgres://pw:hunter2@db/x whsec_AAAA")).toBe(
      "auth Bearer [redacted] failed for postgres://pw:[redacted]@db/x whsec_[redacted]",
    );
  });
});

describe("redaction at any depth, in any case, inside strings and errors", () => {
  const SECRETS = [
    "sk-stack-nested-1",
    "tok-capital-A",
    "hunter2",
    "s3cr3t-in-binding",
    "abc.def.ghi",
    "sk_lf_live_999",
    "whsec_c2VjcmV0c2VjcmV0",
    "pl41n-pw",
    "lower-bearer-xyz",
    "deep-in-error-config",
    "q-token-123",
  ];

  it("finds none of the secrets in what is written", () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: "experiments", destination });
    // Nested three levels deep: a path list stops at two.
    log.info({ config: { stackai: { apiKey: "sk-stack-nested-1", orgId: "org-1" } } }, "config");
    // Header names in any case.
    log.info({ request: { headers: { Authorization: "tok-capital-A", Accept: "json" } } }, "req");
    // A password inside a database URL, as a value and inside the message.
    log.info({ db: "postgres://pw:hunter2@db:5432/x" }, "connecting to postgres://pw:hunter2@db/x");
    // Child bindings.
    log
      .child({ settings: { database: { url: "postgres://u:s3cr3t-in-binding@h/db" } } })
      .info("child");
    // Bearer tokens inside error messages (and so inside their stacks).
    log.error({ err: new Error("vendor said no to Bearer abc.def.ghi") }, "stackAI failed");
    log.error(new Error("Lightfield key sk_lf_live_999 was refused"));
    log.warn({ reason: "secret whsec_c2VjcmV0c2VjcmV0 rotated" }, "webhook");
    log.warn({ note: "libpq: host=db password=pl41n-pw user=pw" }, "dsn");
    log.warn({ reply: "authorization: bearer lower-bearer-xyz" }, "lowercase");
    // An error carrying the request it failed on (the shape HTTP clients throw).
    const failed = Object.assign(new Error("request failed"), {
      config: { headers: { AUTHORIZATION: "deep-in-error-config" }, url: "https://api.x" },
    });
    log.error({ error: failed }, "http error");
    log.info({ url: "https://api.example/v1?access_token=q-token-123&page=2" }, "fetched");
    const text = lines.map((l) => JSON.stringify(l)).join("\n");
    for (const secret of SECRETS) expect(text, secret).not.toContain(secret);
    // What is not secret is still there to debug with.
    expect(text).toContain("org-1");
    expect(text).toContain('"Accept":"json"');
    expect(text).toContain("db:5432/x");
    expect(text).toContain("page=2");
    expect(text).toContain("vendor said no to Bearer [redacted]");
    const error = lines.find((l) => l.msg === "stackAI failed")!.err as Record<string, unknown>;
    expect(error.type).toBe("Error");
    expect(String(error.stack)).toMatch(/at /);
    expect((lines.find((l) => l.msg === "http error")!.error as { message: string }).message).toBe(
      "request failed",
    );
  });

  it("survives cycles and very deep objects without throwing or walking forever", () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: "x", destination });
    const cyclic: Record<string, unknown> = { name: "a", token: "cyc-secret" };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { password: "deepest-secret" };
    for (let i = 0; i < 50; i++) deep = { next: deep };
    log.info({ cyclic, deep }, "odd shapes");
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain("cyc-secret");
    expect(text).not.toContain("deepest-secret");
    expect(lines[0]!.msg).toBe("odd shapes");
  });

  it("does not touch the caller's object", () => {
    const { destination } = capture();
    const log = createLogger({ service: "x", destination });
    const payload = { apiKey: "k-123", nested: { password: "p" } };
    log.info(payload, "x");
    expect(payload).toEqual({ apiKey: "k-123", nested: { password: "p" } });
  });
});
