// The policy table on a real broker and PostgreSQL: each rule produces the verdict and
// reason an operator would expect on `outreach.dispatched.v1`, and the simulated inbox
// holds a message only where one was due.
import { queryRows } from "@pw/db";
import { commandKeyPair, formatCommandPublicKeys, Topics } from "@pw/events";
import { kafkaFixture, postgresFixture, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { command, followUp, optedOut, outcome, request } from "../test/fixtures.ts";
import { found, type Harness, harness } from "../test/harness.ts";
import { manualClock } from "./clock.ts";
import { dispatchConfig } from "./config.ts";
import { type RunningDispatch, startDispatch } from "./start.ts";

const kafka = await kafkaFixture();
const pg = await postgresFixture();
const gateway = commandKeyPair("gw-dispatch");

describe.runIf(kafka && pg)("dispatch policy on real services", () => {
  let h: Harness;
  let running: RunningDispatch;
  // 15:00 UTC on a Tuesday: working hours in London and New York.
  const clock = manualClock("2026-12-01T15:00:00Z");

  beforeAll(async () => {
    h = await harness(kafka!, pg!, "dsp_policy");
    running = await startDispatch(
      dispatchConfig({
        PORT: "0",
        UNSUBSCRIBE_SECRET: "policy-test-secret-0123456789",
        OPERATOR_COMMAND_PUBLIC_KEYS: formatCommandPublicKeys([gateway]),
        DISPATCH_DOMAIN_PER_HOUR: "2",
        DISPATCH_CHANNEL_DAILY_CAPS: "slack:1",
        DISPATCH_NURTURE_PER_DAY: "1",
        DISPATCH_POLL_MS: "50",
      }),
      { db: h.db, bus: h.bus, listen: false, clock, logger: h.logger },
    );
  });
  afterAll(async () => {
    await running?.stop();
    await h?.close();
  });

  /** Waits until dispatch recorded the lead's opt-out / suppression (topics are not ordered). */
  const recorded = (leadId: string, what: "opted_out_at" | "suppressed") =>
    waitFor(async () => Boolean((await h.lead(leadId))?.[what]), {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: `${what} for ${leadId}`,
    });

  it("sends an allowed request once, with the compliance metadata", async () => {
    const r = request("lead-ok");
    await h.publish(Topics.outreachRequested, [r]);
    const v = await h.verdict(r.data.requestId, "sent");
    expect(v.data).toMatchObject({ provider: { name: "local" }, track: "experiment", attempt: 1 });
    expect(v.data.dispatchId).toBeTruthy();
    const mail = await h.inbox("lead-ok");
    expect(mail).toHaveLength(1);
    expect(mail[0]!.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");
    expect(mail[0]!.headers["List-Unsubscribe"]).toMatch(
      /^<http:\/\/127\.0\.0\.1:4100\/unsubscribe\/[\w-]+\.[\w-]+>/,
    );
    // Redelivered: nothing new.
    await h.publish(Topics.outreachRequested, [r]);
    const again = request("lead-ok-2");
    await h.publish(Topics.outreachRequested, [again]);
    await h.verdict(again.data.requestId, "sent");
    expect(h.of(r.data.requestId)).toHaveLength(1);
    expect(await h.inbox("lead-ok")).toHaveLength(1);
  });

  it.each([
    ["a signed do-not-contact command", "dnc", "opted out: operator ops@acme.io: do not contact"],
    ["an unsubscribe", "unsub", "opted out: unsubscribed"],
    ["a hard bounce", "bounce", "opted out: hard bounce"],
    ["an opt-out the engine read in a reply", "reply", "opted out: reply text: asked in a reply"],
  ])("skips a lead after %s", async (_name, kind, reason) => {
    const leadId = `lead-${kind}`;
    if (kind === "dnc")
      await h.publish(Topics.operatorCommands, [
        command(gateway, "operator.lead_command.v1", { action: "do_not_contact" }, leadId),
      ]);
    if (kind === "unsub")
      await h.publish(Topics.outreachOutcomes, [outcome(leadId, "unsubscribed")]);
    if (kind === "bounce")
      await h.publish(Topics.outreachOutcomes, [
        outcome(leadId, "bounced", { bounceType: "hard" }),
      ]);
    if (kind === "reply") await h.publish(Topics.leadConsent, [optedOut(leadId, "reply_text")]);
    await recorded(leadId, "opted_out_at");
    const r = request(leadId);
    await h.publish(Topics.outreachRequested, [r]);
    const v = await h.verdict(r.data.requestId, "skipped");
    expect(v.data.reason).toBe(reason);
    expect(await h.inbox(leadId)).toHaveLength(0);
  });

  it("still writes after a soft bounce, and refuses an unsigned do-not-contact", async () => {
    await h.publish(Topics.outreachOutcomes, [
      outcome("lead-soft", "bounced", { bounceType: "soft" }),
    ]);
    await h.publish(Topics.operatorCommands, [
      command(undefined, "operator.lead_command.v1", { action: "do_not_contact" }, "lead-soft"),
    ]);
    await waitFor(
      async () =>
        /pw_events_handled_total\{[^}]*topic="operator.commands.v1"[^}]*result="unauthenticated"[^}]*\} 1\b/.test(
          await running.metrics.registry.metrics(),
        ),
      { timeoutMs: 30_000, intervalMs: 50, message: "the unsigned command to be refused" },
    );
    const r = request("lead-soft");
    await h.publish(Topics.outreachRequested, [r]);
    await h.verdict(r.data.requestId, "sent");
    expect(await h.inbox("lead-soft")).toHaveLength(1);
  });

  it("keeps one touch per lead per 24 h", async () => {
    const first = request("lead-twice");
    await h.publish(Topics.outreachRequested, [first]);
    await h.verdict(first.data.requestId, "sent");
    const second = request("lead-twice");
    await h.publish(Topics.outreachRequested, [second]);
    const v = await h.verdict(second.data.requestId, "deferred");
    expect(v.data.reason).toBe("one touch per lead per 24 h");
    expect(v.data.nextStepAt).toBe("2026-12-02T15:00:00.000Z");
    expect(await h.inbox("lead-twice")).toHaveLength(1);
  });

  it("caps e-mails per recipient domain per hour and Slack per day", async () => {
    const crowded = ["a", "b", "c"].map((x) =>
      request(`lead-crowd-${x}`, { to: `${x}@crowded.example` }),
    );
    await h.publish(Topics.outreachRequested, crowded);
    const verdicts = await found(
      () => {
        const vs = crowded.flatMap((r) => h.of(r.data.requestId));
        return vs.length >= 3 ? vs : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: "three verdicts" },
    );
    expect(verdicts.filter((v) => v.data.status === "sent")).toHaveLength(2);
    const deferred = verdicts.find((v) => v.data.status === "deferred")!;
    expect(deferred.data.reason).toBe("per-domain cap for crowded.example (2/h) reached");
    expect(deferred.data.nextStepAt).toBe("2026-12-01T16:00:00.000Z");

    const slack = ["x", "y"].map((x) =>
      request(`lead-slack-${x}`, { channel: "slack", to: "#sales" }),
    );
    await h.publish(Topics.outreachRequested, slack);
    const sv = await found(
      () => {
        const vs = slack.flatMap((r) => h.of(r.data.requestId));
        return vs.length >= 2 ? vs : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: "two slack verdicts" },
    );
    expect(sv.map((v) => v.data.status).sort()).toEqual(["deferred", "sent"]);
    const held = sv.find((v) => v.data.status === "deferred")!;
    expect(held.data.reason).toBe("daily slack cap (1) reached");
    expect(held.data.nextStepAt).toBe("2026-12-02T00:00:00.000Z");
  });

  it("caps the nurture track on its own", async () => {
    const nurture = ["n1", "n2"].map((x) =>
      request(`lead-${x}`, { track: "nurture", priority: 0 }),
    );
    await h.publish(Topics.outreachRequested, nurture);
    const vs = await found(
      () => {
        const all = nurture.flatMap((r) => h.of(r.data.requestId));
        return all.length >= 2 ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, message: "two nurture verdicts" },
    );
    expect(vs.map((v) => v.data.status).sort()).toEqual(["deferred", "sent"]);
    expect(vs.every((v) => v.data.track === "nurture")).toBe(true);
    expect(vs.find((v) => v.data.status === "deferred")!.data.reason).toBe(
      "daily nurture cap (1) reached",
    );
  });

  it("holds everything while the kill switch is on and sends when it is released", async () => {
    await h.publish(Topics.operatorCommands, [
      command(gateway, "operator.kill_switch.v1", { engaged: true }),
    ]);
    await waitFor(
      async () =>
        (await queryRows(h.db.db, sql`select 1 from dispatch.controls where engaged`)).length === 1,
      { timeoutMs: 30_000, intervalMs: 50, message: "the kill switch" },
    );
    const r = request("lead-killed");
    await h.publish(Topics.outreachRequested, [r]);
    const held = await h.verdict(r.data.requestId, "deferred");
    expect(held.data.reason).toBe("kill switch engaged");
    expect(await h.inbox("lead-killed")).toHaveLength(0);
    await h.publish(Topics.operatorCommands, [
      command(gateway, "operator.kill_switch.v1", { engaged: false }),
    ]);
    await h.verdict(r.data.requestId, "sent");
    expect(await h.inbox("lead-killed")).toHaveLength(1);
    expect(h.of(r.data.requestId).filter((v) => v.data.status === "deferred")).toHaveLength(1);
  });

  it("defers quiet hours to the next allowed minute in zones either side of midnight", async () => {
    // 15:00 UTC is 05:00 on Dec 2 in Kiritimati (UTC+14) and 04:00 on Dec 1 in Pago Pago (UTC-11).
    const kiri = request("lead-kiri", {
      timeZone: "Pacific/Kiritimati",
      followUps: [followUp(1, 1, "lead-kiri")],
    });
    const pago = request("lead-pago", { timeZone: "Pacific/Pago_Pago" });
    await h.publish(Topics.outreachRequested, [kiri, pago]);
    const k = await h.verdict(kiri.data.requestId, "deferred");
    expect(k.data.reason).toBe("quiet hours in Pacific/Kiritimati");
    expect(k.data.nextStepAt).toBe("2026-12-01T18:00:00.000Z");
    const p = await h.verdict(pago.data.requestId, "deferred");
    expect(p.data.nextStepAt).toBe("2026-12-01T19:00:00.000Z");
    expect(await h.inbox("lead-kiri")).toHaveLength(0);

    clock.set("2026-12-01T18:00:00Z");
    const sent = await h.verdict(kiri.data.requestId, "sent");
    // The follow-up is due a day after the first touch.
    expect(sent.data.nextStepAt).toBe("2026-12-02T18:00:00.000Z");
    expect(await h.inbox("lead-pago")).toHaveLength(0);
    clock.set("2026-12-01T19:00:00Z");
    await h.verdict(pago.data.requestId, "sent");
    clock.set("2026-12-02T18:00:00Z");
    await h.verdict(kiri.data.requestId, "sent", 1);
    expect((await h.inbox("lead-kiri")).map((m) => m.subject)).toEqual([
      kiri.data.subject,
      "Re: following up (1)",
    ]);
  });

  it("keeps the nurture track's own cadence: one nurture touch per lead per 7 days", async () => {
    // A new UTC day: the nurture cap is fresh (the lead the cap deferred went on the 2nd).
    clock.set("2026-12-03T18:00:00Z");
    const first = request("lead-nurtured", { track: "nurture", priority: 0 });
    await h.publish(Topics.outreachRequested, [first]);
    await h.verdict(first.data.requestId, "sent");
    clock.set("2026-12-05T18:00:00Z"); // past the 24 h touch gap, inside the 7-day cadence
    const second = request("lead-nurtured", { track: "nurture", priority: 0 });
    await h.publish(Topics.outreachRequested, [second]);
    const v = await h.verdict(second.data.requestId, "deferred");
    expect(v.data.reason).toBe("nurture cadence: one touch per 7 days");
    expect(v.data.nextStepAt).toBe("2026-12-10T18:00:00.000Z");
    expect(await h.inbox("lead-nurtured")).toHaveLength(1);
  });
});
