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
