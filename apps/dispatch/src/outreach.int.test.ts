// The whole outreach path on a real broker and PostgreSQL, with a real SMTP server and the
// outreach agent as its own HTTP service (JWT-verified, as on Truefoundry): one mail per
// step with the personalised copy and the one-click unsubscribe headers, the follow-up
// after its (accelerated) delay, no follow-up after a reply, and a one-click unsubscribe
// that stops the cadence and reaches the engine.

import { type LeadOptedOutV1, Topics } from "@pw/events";
import { experimentsConfig, startExperiments } from "@pw/experiments";
import { ingestConfig, startIngest } from "@pw/ingest";
import { agentConfig, startOutreachAgent } from "@pw/outreach-agent";
import { startSmtpServer, type TestSmtpServer } from "@pw/outreach-agent/test-servers";
import { kafkaFixture, postgresFixture } from "@pw/testkit";
import { request as http } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followUp, outcome, request } from "../test/fixtures.ts";
import { found, type Harness, harness } from "../test/harness.ts";
import { dispatchConfig } from "./config.ts";
import { type RunningDispatch, startDispatch } from "./start.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const JWT_SECRET = "agent-jwt-secret-0123456789-abcdefghij";
const UNSUBSCRIBE_SECRET = "unsubscribe-secret-0123456789";
const DAY_MS = 86_400_000;

describe.runIf(kafka && pg)("outreach end to end", () => {
  let h: Harness;
  let smtp: TestSmtpServer;
  let agent: Awaited<ReturnType<typeof startOutreachAgent>>;
  let ingest: Awaited<ReturnType<typeof startIngest>>;
  let engine: Awaited<ReturnType<typeof startExperiments>>;
  let dispatch: RunningDispatch;
  const consent: LeadOptedOutV1[] = [];

  beforeAll(async () => {
    h = await harness(kafka!, pg!, "dsp_e2e");
    smtp = await startSmtpServer();
    await h.bus.subscribe({
      groupId: "consent-tap",
      topic: Topics.leadConsent,
      fromBeginning: true,
      decode: (v) => v as LeadOptedOutV1,
      handler: async (e) => void consent.push(e),
    });
    agent = await startOutreachAgent(
      agentConfig({
        PORT: "0",
        SMTP_URL: smtp.url,
        SMTP_FROM: "Sales <sales@pipeline.example>",
        AGENT_JWT_SECRET: JWT_SECRET,
        ALLOW_INSECURE_VENDOR_URLS: "1",
      }),
      { db: h.db, logger: h.logger },
    );
    ingest = await startIngest(
      ingestConfig({
        PORT: "0",
        WEBHOOK_SECRET: `whsec_${Buffer.from("e2e-webhook-secret-0123456789").toString("base64")}`,
        UNSUBSCRIBE_SECRET,
      }),
      { db: h.db, bus: h.bus, logger: h.logger },
    );
    engine = await startExperiments(experimentsConfig({ PORT: "0" }), {
      db: h.db,
      bus: h.bus,
      listen: false,
      logger: h.logger,
    });
    dispatch = await startDispatch(
      dispatchConfig({
        PORT: "0",
        UNSUBSCRIBE_SECRET,
        UNSUBSCRIBE_BASE_URL: ingest.url!,
        UNSUBSCRIBE_MAILTO: "unsubscribe@pipeline.example",
        SENDER_POSTAL_ADDRESS: "Pipeline Whisperer Inc., 1 Market St, San Francisco, CA 94105",
        TRUEFOUNDRY_AGENT_URL: agent.url!,
        TRUEFOUNDRY_AGENT_JWT_SECRET: JWT_SECRET,
        ALLOW_INSECURE_VENDOR_URLS: "1",
        // A cadence day lasts a second of wall time.
        DISPATCH_CLOCK_SCALE: String(DAY_MS / 1_000),
        DISPATCH_QUIET_HOURS: "off",
        DISPATCH_POLL_MS: "50",
      }),
      { db: h.db, bus: h.bus, listen: false, logger: h.logger },
    );
  });
  afterAll(async () => {
    await dispatch?.stop();
    await engine?.stop();
    await ingest?.stop();
    await agent?.stop();
    await smtp?.close();
    await h?.close();
  });

  const mailsTo = (to: string) => smtp.mails.filter((m) => m.envelope.to.includes(to));

  it("sends each step once, with the unsubscribe headers, and the follow-up after its delay", async () => {
    const r = request("lead-a", {
      to: "ana@buyer.example",
      subject: "Ana, a question about Buyer's pipeline",
      body: "Hi Ana,\n\nsaw Buyer is hiring SDRs — worth 15 minutes?",
      followUps: [followUp(1, 2, "lead-a")],
    });
    await h.publish(Topics.outreachRequested, [r]);
    const first = await smtp.waitForMail(
      (m) => m.envelope.to.includes("ana@buyer.example"),
      30_000,
    );
    expect(first.subject).toBe("Ana, a question about Buyer's pipeline");
    expect(first.text).toContain("saw Buyer is hiring SDRs");
    expect(first.html).toContain("saw Buyer is hiring SDRs");
    expect(first.text).toContain("Pipeline Whisperer Inc., 1 Market St, San Francisco, CA 94105");
    const list = first.header("List-Unsubscribe")!;
    expect(list).toMatch(
      new RegExp(
        `^<${ingest.url}/unsubscribe/[\\w-]+\\.[\\w-]+>, <mailto:unsubscribe@pipeline\\.example\\?subject=`,
      ),
    );
    expect(first.header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    const sent = await h.verdict(r.data.requestId, "sent");
    expect(sent.data.provider).toEqual({ name: "truefoundry", messageId: first.messageId });

    const second = await smtp.waitForMail(
      (m) => m.envelope.to.includes("ana@buyer.example") && m.subject === "Re: following up (1)",
      30_000,
    );
    expect(second.header("List-Unsubscribe-Post")).toBe("List-Unsubscribe=One-Click");
    const followed = await h.verdict(r.data.requestId, "sent", 1);
    // On dispatch's clock the follow-up went two days after the first touch, not before.
    expect(Date.parse(followed.data.at) - Date.parse(sent.data.at)).toBeGreaterThanOrEqual(
      2 * DAY_MS,
    );
    expect(mailsTo("ana@buyer.example")).toHaveLength(2);
  });

  it("does not follow up after the lead replied", async () => {
    const r = request("lead-b", { to: "ben@reply.example", followUps: [followUp(1, 3, "lead-b")] });
    await h.publish(Topics.outreachRequested, [r]);
    await smtp.waitForMail((m) => m.envelope.to.includes("ben@reply.example"), 30_000);
    await h.verdict(r.data.requestId, "sent");
    await h.publish(Topics.outreachOutcomes, [
      outcome("lead-b", "replied", {
        requestId: r.data.requestId,
        replyText: "Sure, Tuesday works.",
      }),
    ]);
    const cancelled = await h.verdict(r.data.requestId, "skipped", 1);
    expect(cancelled.data.reason).toBe("cadence cancelled: the lead replied");
    // The step is final: it can never be sent now.
    expect(mailsTo("ben@reply.example")).toHaveLength(1);
  });

  it("turns a one-click unsubscribe into an opt-out dispatch and the engine both act on", async () => {
    const r = request("lead-c", {
      to: "cleo@unsub.example",
      followUps: [followUp(1, 2, "lead-c")],
    });
    await h.publish(Topics.outreachRequested, [r]);
    const mail = await smtp.waitForMail(
      (m) => m.envelope.to.includes("cleo@unsub.example"),
      30_000,
    );
    const url = /<(http[^>]+)>/.exec(mail.header("List-Unsubscribe")!)![1]!;
    // What a mailbox provider does for RFC 8058: one POST, no cookies, no confirmation page.
    const started = performance.now();
    const res = await http(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    await res.body.dump();
    expect(res.statusCode).toBe(200);
    const stopped = await h.verdict(r.data.requestId, "skipped", 1);
    const tookMs = performance.now() - started;
    // Whichever came first: ingest's outcome, or the engine's opt-out made of it.
    expect(stopped.data.reason).toMatch(/^opted out: (unsubscribed|unsubscribe link: )/);
    expect(tookMs).toBeLessThan(5_000);
    const seen = await found(() => consent.find((c) => c.subject === "lead-c"), {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: "the engine's opt-out",
    });
    expect(seen.data.source).toBe("unsubscribe_link");
    // A new request for the lead is skipped too, and no mail goes out.
    const again = request("lead-c", { to: "cleo@unsub.example" });
    await h.publish(Topics.outreachRequested, [again]);
    expect((await h.verdict(again.data.requestId, "skipped")).data.reason).toMatch(
      /^opted out: unsub/,
    );
    expect(mailsTo("cleo@unsub.example")).toHaveLength(1);
    console.info(`one-click unsubscribe → follow-up stopped in ${tookMs.toFixed(0)} ms`);
  });
});
