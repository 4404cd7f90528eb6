// The webhook path labels selects as the poller does, when ingest can read Lightfield's
// definitions; a Lightfield that is down never fails a webhook (option ids are kept).
import type { IncomingMessage } from "@pw/bus";
import {
  contactDefinitions,
  contactFixture,
  startLightfieldServer,
} from "@pw/lightfield/test-server";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { embeddedServices, newSecret, type Services, signed, tap } from "../test/harness.ts";
import { ingestConfig } from "./config.ts";
import { startIngest } from "./start.ts";

const KEY = "sk_lf_labels_test";

describe("Lightfield webhooks with select labels", () => {
  let services: Services;
  let server: Awaited<ReturnType<typeof startLightfieldServer>>;
  beforeEach(async () => {
    services = await embeddedServices();
    server = await startLightfieldServer(KEY);
    server.setDefinitions("contacts", contactDefinitions);
  });
  afterEach(async () => {
    await server.close().catch(() => {});
    await services.close();
  });

  async function post(secret: string, ingest: Awaited<ReturnType<typeof startIngest>>) {
    const contact = contactFixture(7, {
      fields: {
        ...contactFixture(7).fields,
        seniority: { value: "opt_sen_exec", valueType: "SINGLE_SELECT" },
      },
    });
    // What a Lightfield workflow step posts: the trigger output in a wrapper, the event
    // type on the URL.
    const body = JSON.stringify({
      data: {
        ...contact,
        occurredAt: new Date().toISOString(),
        _diff: { before: { title: "Engineer" }, after: { title: "CTO" } },
      },
    });
    return ingest.app.inject(signed("/webhooks/lightfield?type=contact.updated", body, { secret }));
  }

  async function start(secret: string) {
    const config = ingestConfig({
      WEBHOOK_SECRET: secret,
      LIGHTFIELD_API_KEY: KEY,
      LIGHTFIELD_BASE_URL: server.url,
      ALLOW_INSECURE_VENDOR_URLS: "1",
    });
    return startIngest(config, {
      bus: services.bus,
      db: services.db,
      listen: false,
      logger: createLogger({ service: "ingest-test", level: "silent" }),
    });
  }

  const recordOf = (m: IncomingMessage) =>
    (JSON.parse(m.value) as { data: { record: { fields: Record<string, { label?: string }> } } })
      .data.record;

  it("resolves a select option id to its label through the definitions endpoint", async () => {
    const secret = newSecret();
    const ingest = await start(secret);
    const topic = await tap(services.bus);
    const res = await post(secret, ingest);
    expect(res.statusCode).toBe(202);
    await waitFor(() => topic.messages.length === 1, { message: "the lead event" });
    expect(recordOf(topic.messages[0]!).fields.seniority?.label).toBe("Executive");
    expect(server.requests.some((r) => r.path === "/v1/contacts/definitions")).toBe(true);
    await topic.close();
    await ingest.stop();
  });

  it("accepts the webhook with option ids when Lightfield is unreachable", async () => {
    const secret = newSecret();
    const ingest = await start(secret);
    await server.close();
    const topic = await tap(services.bus);
    const res = await post(secret, ingest);
    expect(res.statusCode).toBe(202);
    await waitFor(() => topic.messages.length === 1, { message: "the lead event" });
    const seniority = recordOf(topic.messages[0]!).fields.seniority as {
      value?: string;
      label?: string;
    };
    expect(seniority.value).toBe("opt_sen_exec");
    expect(seniority.label).toBeUndefined();
    await topic.close();
    await ingest.stop();
  });
});
