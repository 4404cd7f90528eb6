// The distributed stack end to end, as `pnpm stack` runs it: every app its own process
// (two instances of ingest, scoring, experiments and dispatch; one outreach agent, one
// gateway, the dashboard), on the real Kafka broker and PostgreSQL, in a fresh database
// and a topic prefix of its own. 300 leads drawn from a world's lead model arrive as signed
// CRM and intent-signal webhooks; the recipients of a world file answer the messages
// (opens, replies, meetings, deals, bounces, opt-outs) as signed outcome webhooks. Every
// lead is scored, decided and contacted once, or says why not; booked meetings are credited
// to the decisions that caused them and move the posteriors; the command center in Chromium
// shows the same figures; every topic reconciles with what went in. Then a second wave of
// 300 leads, during which one instance of each scaled service is SIGKILLed: the same holds.
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createDb, type DbHandle, queryRows } from "@pw/db";
import { type RecipientSimulator, startRecipientSimulator } from "@pw/embedded/recipients";
import { readWorldFile, type SimLead } from "@pw/simulator";
import {
  kafkaFixture,
  postgresFixture,
  requireServices,
  type TestDatabase,
  waitFor,
} from "@pw/testkit";
import { sql } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../scripts/stack/start.ts";
import { type Bus, type Envelope, kafkaBus, startTap, type Tap } from "./stack-kafka.ts";
import { drawLeads, type Sender, webhookSender } from "./stack-leads.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && requireServices())
  throw new Error(
    `REQUIRE_SERVICES=1 but no Chromium at ${CHROMIUM} (bash scripts/services.sh browser)`,
  );
const kafka = await kafkaFixture();
const pg = await postgresFixture();

const ROOT = join(import.meta.dirname, "../../..");
/** Leads from a world with a lead model; recipients from the demo's world (minutes, not days). */
const LEADS_WORLD = join(ROOT, "data/worlds/scoring-priors.json");
const RECIPIENTS_WORLD = join(ROOT, "data/worlds/demo.json");
/**
 * A world hour is a tenth of a second: meetings (median 3 h) and deals (median 12 h, a
 * long tail) come back within seconds, so the test can wait for every answer.
 */
const CLOCK_SCALE = 36_000;
const WAVE = 300;
const TOPICS = {
  events: "lead.events.v1",
  scored: "lead.scored.v1",
  requested: "outreach.requested.v1",
  dispatched: "outreach.dispatched.v1",
  outcomes: "outreach.outcomes.v1",
} as const;

/** Where one lead stands, from the topics and the engine's queue. */
type Journey = {
  leadId: string;
  scored: boolean;
  requestIds: string[];
  /** The first touch's final report: sent, skipped or failed (deferred is not final). */
  final?: { status: string; reason?: string };
  /** Not requested: why (the latest score's tier or contactability, or the engine's queue). */
  notRequested?: string;
};

describe.runIf(kafka && pg && hasBrowser)("the distributed stack, end to end", () => {
  let database: TestDatabase;
  let db: DbHandle;
  let stack: Stack;
  let bus: Bus;
  let tap: Tap;
  let recipients: RecipientSimulator;
  let sender: Sender;
  let browser: Browser;
  let page: Page;
  const leads: SimLead[] = [];
  /** What each step saw, written beside the logs (test-results/stack-e2e/summary.json). */
  const summary: Record<string, unknown> = {};
  /** The stack's logs, secrets and state: kept after the run (CI keeps test-results/). */
  const stateDir = join(ROOT, "test-results", "stack-e2e");

  beforeAll(async () => {
    database = await pg!.createDatabase("pw_stack");
    const prefix = `${kafka!.uniqueName("stack")}.`;
    await rm(stateDir, { recursive: true, force: true });
    await mkdir(stateDir, { recursive: true });
    stack = await startStack({
      env: {
        ...process.env,
        KAFKA_BROKERS: kafka!.brokers.join(","),
        DATABASE_URL: database.url,
        KAFKA_TOPIC_PREFIX: prefix,
        // Production defaults, but for what would stretch the test over days: quiet hours,
        // the daily first-touch capacity, the minute between reviews; and a crashed
        // dispatch instance's claimed sends are taken over after 10 s, not 60.
        DISPATCH_QUIET_HOURS: "off",
        EXPERIMENT_DAILY_CAPACITY: "100000",
        EXPERIMENT_REVIEW_EVERY_MS: "1000",
        DISPATCH_SEND_LEASE_MS: "10000",
        LOG_LEVEL: "info",
      },
      scale: { ingest: 2, scoring: 2, experiments: 2, dispatch: 2 },
      ports: "free",
      stateDir,
      progress: () => {},
    });
    db = await createDb({ driver: "pg", url: database.url });
    bus = await kafkaBus({
      brokers: kafka!.brokers,
      topicPrefix: prefix,
      clientId: "stack-e2e",
      sessionTimeout: 10_000,
    });
    tap = await startTap(bus, Object.values(TOPICS), "tap");
    const ingest2 = stack.of("ingest")[1]!;
    recipients = await startRecipientSimulator({
      bus,
      // The instance never killed: an outcome report is the provider's, retried against one URL.
      ingestUrl: ingest2.url,
      webhookSecret: stack.webhookSecret,
      world: await readWorldFile(RECIPIENTS_WORLD),
      clockScale: CLOCK_SCALE,
      seed: 17,
      groupId: "recipients",
    });
    sender = webhookSender({
      ingestUrls: () =>
        stack
          .of("ingest")
          .filter((i) => i.alive())
          .map((i) => i.url),
      secret: stack.webhookSecret,
      concurrency: 16,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await recipients?.stop();
    await tap?.close();
    await bus?.close();
    await stack?.stop();
    await db?.close();
    await database?.drop();
    await writeFile(join(stateDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`).catch(
      () => {},
    );
  }, 60_000);

  /**
   * What is still in flight, or undefined once nothing is: every accepted lead event
   * handled by scoring, every score handled by the engine, and every event each service
   * put in its outbox published and read back from the broker by the tap.
   */
  async function inFlight(): Promise<string | undefined> {
    const ids = (topic: string) => tap.events(topic).map((e) => e.id);
    const handled = async (schema: string, eventIds: string[]) =>
      (
        await queryRows<{ n: number }>(
          db.db,
          sql`select count(*)::int as n from ${sql.identifier(schema)}.inbox where event_id = any(${textArray(eventIds)})`,
        )
      )[0]!.n;
    const events = [...sender.accepted];
    const scored = await handled("scoring", events);
    if (scored < events.length)
      return `scoring has handled ${scored} of ${events.length} lead events`;
    for (const [schema, topic] of [
      ["scoring", TOPICS.scored],
      ["experiments", TOPICS.requested],
      ["dispatch", TOPICS.dispatched],
    ] as const) {
      const rows = await queryRows<{ event_id: string; published: boolean }>(
        db.db,
        sql`select event_id, published_at is not null as published from ${sql.identifier(schema)}.outbox where topic = ${topic}`,
      );
      const unpublished = rows.filter((r) => !r.published).length;
      if (unpublished > 0) return `${schema} has ${unpublished} ${topic} events to publish`;
      const seen = new Set(ids(topic));
      const unseen = rows.filter((r) => !seen.has(r.event_id)).length;
      if (unseen > 0) return `${unseen} ${topic} events not read back yet`;
    }
    const decided = await handled("experiments", ids(TOPICS.scored));
    if (decided < ids(TOPICS.scored).length)
      return `the engine has handled ${decided} of ${ids(TOPICS.scored).length} scores`;
    return undefined;
  }

  /** Each lead's journey, from the topics (and the engine's queue for leads it holds). */
  async function journeys(of: readonly SimLead[]): Promise<Journey[]> {
    const lastScore = new Map<string, Envelope>();
    for (const e of tap.events(TOPICS.scored)) lastScore.set(e.subject, e);
    const requests = new Map<string, string[]>();
    for (const e of tap.events(TOPICS.requested)) {
      const list = requests.get(e.subject) ?? [];
      list.push(String(e.data.requestId));
      requests.set(e.subject, list);
    }
    const finals = new Map<string, { status: string; reason?: string }>();
    for (const e of tap.events(TOPICS.dispatched)) {
      const d = e.data as {
        requestId: string;
        status: string;
        reason?: string;
        cadenceStep: number;
      };
      if (d.cadenceStep === 0 && d.status !== "deferred")
        finals.set(d.requestId, { status: d.status, ...(d.reason ? { reason: d.reason } : {}) });
    }
    const queue = new Map(
      (
        await queryRows<{ lead_id: string; status: string; note: string | null }>(
          db.db,
          sql`select lead_id, status, note from experiments.queue`,
        )
      ).map((r) => [r.lead_id, r]),
    );
    return of.map((lead) => {
      const requestIds = requests.get(lead.id) ?? [];
      const final = requestIds.map((r) => finals.get(r)).find(Boolean);
      const score = lastScore.get(lead.id)?.data as
        | { score: number; tier: string; contactable: boolean }
        | undefined;
      const q = queue.get(lead.id);
      // The engine contacts warm and hot leads that may be contacted; the rest it leaves,
      // and the latest score says why.
      const notRequested =
        requestIds.length > 0 || !score
          ? undefined
          : !score.contactable
            ? "not contactable (opted out or no consent)"
            : score.tier === "cold"
              ? `cold (score ${score.score})`
              : q && !["queued", "requested", "pending_approval"].includes(q.status)
                ? `${q.status}${q.note ? `: ${q.note}` : ""}`
                : undefined;
      return {
        leadId: lead.id,
        scored: score !== undefined,
        requestIds,
        ...(final ? { final } : {}),
        ...(notRequested ? { notRequested } : {}),
      };
    });
  }

  const settled = (j: Journey) =>
    j.scored && (j.final !== undefined || j.notRequested !== undefined);

  /**
   * Waits until nothing is in flight and every lead is scored and either finally
   * dispatched or left with a reason.
   */
  async function untilSettled(of: readonly SimLead[], timeoutMs: number): Promise<Journey[]> {
    let last: Journey[] = [];
    let pending: string | undefined = "not looked yet";
    try {
      await waitFor(
        async () => {
          pending = await inFlight();
          if (pending) return false;
          last = await journeys(of);
          return last.every(settled);
        },
        { timeoutMs, intervalMs: 1_000, message: `all ${of.length} leads to settle` },
      );
    } catch (error) {
      const stuck = last.filter((j) => !settled(j));
      throw new Error(
        `${(error as Error).message.slice(0, 600)}; in flight: ${pending ?? "nothing"}; ${stuck.length} leads not settled, e.g. ${JSON.stringify(stuck.slice(0, 5))}`,
      );
    }
    return last;
  }

  /** What must hold for every lead sent so far, whatever crashed on the way. */
  async function expectEveryLeadHandledOnce(of: readonly SimLead[], all: Journey[]) {
    // Everything the senders were told was accepted is on the topic: nothing lost.
    expect(sender.refused).toEqual([]);
    const eventIds = new Set(tap.events(TOPICS.events).map((e) => e.id));
    expect([...sender.accepted].filter((id) => !eventIds.has(id))).toEqual([]);
    expect(eventIds.size).toBe(sender.accepted.size);
    // Scored: every lead, and the scoring service knows each one.
    expect(all.filter((j) => !j.scored).map((j) => j.leadId)).toEqual([]);
    const [profiles] = await queryRows<{ n: number }>(
      db.db,
      sql`select count(*)::int as n from scoring.leads where lead_id = any(${textArray(of.map((l) => l.id))})`,
    );
    expect(profiles!.n).toBe(of.length);
    // Decided at most once per lead; each decision recorded by the engine.
    expect(all.filter((j) => j.requestIds.length > 1).map((j) => j.leadId)).toEqual([]);
    const requestIds = all.flatMap((j) => j.requestIds);
    const decided = await queryRows<{ request_id: string }>(
      db.db,
      sql`select request_id from experiments.decisions where request_id = any(${textArray(requestIds)})`,
    );
    expect(decided.length).toBe(requestIds.length);
    // Every first touch ended sent, or skipped / failed with its reason.
    const notSent = all.filter((j) => j.final && j.final.status !== "sent");
    expect(notSent.filter((j) => !j.final!.reason).map((j) => j.leadId)).toEqual([]);
    expect(all.filter((j) => j.notRequested === undefined && !j.final)).toEqual([]);
    // Nobody contacted twice for the same step: the simulated inbox is what leads received.
    const twice = await queryRows<{ lead_id: string; n: number }>(
      db.db,
      sql`select lead_id, count(*)::int as n from agent.inbox group by lead_id having count(*) > 1`,
    );
    expect(twice).toEqual([]);
    const doubleSends = await queryRows<{ lead_id: string }>(
      db.db,
      sql`select lead_id from dispatch.sends group by lead_id, step having count(*) > 1`,
    );
    expect(doubleSends).toEqual([]);
    const sentLeads = all.filter((j) => j.final?.status === "sent").map((j) => j.leadId);
    const inbox = await queryRows<{ lead_id: string }>(
      db.db,
      sql`select lead_id from agent.inbox where lead_id = any(${textArray(of.map((l) => l.id))})`,
    );
    expect(inbox.map((r) => r.lead_id).sort()).toEqual([...sentLeads].sort());
    return { sent: sentLeads.length, notSent, notRequested: all.filter((j) => j.notRequested) };
  }

  /**
   * Waits until the recipients have nothing left to say and the picture is whole: every
   * outcome they reported is on the topic once (nothing lost), every booked meeting is
   * credited to the decision that caused it, and the posteriors moved by exactly those.
   */
  async function expectMeetingsCredited(timeoutMs: number) {
    const picture = async () => {
      const s = recipients.stats();
      const outcomes = tap.events(TOPICS.outcomes);
      const [row] = await queryRows<{ rewarded: number; successes: number }>(
        db.db,
        sql`select (select count(*)::int from experiments.decisions where rewarded) as rewarded,
          (select coalesce(sum(successes), 0)::float8 from experiments.arms) as successes`,
      );
      return {
        pending: s.pending,
        refused: s.refused,
        reported: Object.values(s.reported).reduce((n, x) => n + (x ?? 0), 0),
        onTopic: outcomes.length,
        meetingsReported: s.reported.meeting_booked ?? 0,
        meetingsOnTopic: outcomes.filter((e) => e.data.outcome === "meeting_booked").length,
        rewarded: row!.rewarded,
        successes: row!.successes,
        byKind: s.reported,
      };
    };
    let last = await picture();
    await waitFor(
      async () => {
        last = await picture();
        // A report's timer fires before its webhook is answered: wait for both ends to agree.
        return (
          last.pending === 0 &&
          last.onTopic === last.reported &&
          last.meetingsOnTopic === last.meetingsReported &&
          last.rewarded === last.meetingsOnTopic &&
          last.successes === last.rewarded
        );
      },
      {
        timeoutMs,
        intervalMs: 500,
        message: "every outcome on the topic and every meeting credited",
      },
    ).catch((error) => {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(last)}`);
    });
    expect(last.refused).toBe(0);
    return { meetings: last.rewarded, reported: last.byKind };
  }

  /** The Overview's five counters as the dashboard shows them. */
  async function overviewCounters(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const label of ["Received", "Scored", "Decided", "Sent", "Converted"]) {
      const text = await page
        .locator("li.flow-step", { has: page.locator(".counter-label", { hasText: label }) })
        .locator(".counter-value")
        .first()
        .textContent();
      out[label] = Number((text ?? "").replaceAll(",", ""));
    }
    return out;
  }

  /** What the topics say those counters must be. */
  function expectedCounters(): Record<string, number> {
    const dispatched = tap.events(TOPICS.dispatched);
    return {
      Received: tap.events(TOPICS.events).length,
      Scored: tap.events(TOPICS.scored).length,
      Decided: tap.events(TOPICS.requested).length,
      Sent: dispatched.filter((e) => e.data.status === "sent").length,
      Converted: tap.events(TOPICS.outcomes).filter((e) => e.data.outcome === "converted").length,
    };
  }

  it("scores, decides and contacts each of 300 leads once, or says why not", {
    timeout: 150_000,
  }, async () => {
    const world = await readWorldFile(LEADS_WORLD);
    const wave = drawLeads(world, WAVE, "wave1", 1);
    leads.push(...wave);
    await sender.send(wave);
    const all = await untilSettled(wave, 90_000);
    const r = await expectEveryLeadHandledOnce(wave, all);
    summary.wave1 = outcomeOf(r, all);
    // Warm and hot leads are contacted (quiet hours off, capacity to spare); the cold ones
    // and those without consent are left, each with its reason.
    expect(r.sent).toBeGreaterThan(WAVE * 0.1);
    expect(r.sent + r.notSent.length + r.notRequested.length).toBe(WAVE);
  });

  it("credits booked meetings to the decisions that caused them and moves the posteriors", {
    timeout: 90_000,
  }, async () => {
    const { meetings, reported } = await expectMeetingsCredited(60_000);
    summary.wave1Outcomes = { meetingsCredited: meetings, reported };
    expect(meetings).toBeGreaterThan(5);
  });

  it("shows the same figures in the command center", { timeout: 90_000 }, async () => {
    const { username, password } = stack.operator!;
    await page.goto(`${stack.webUrl}/login`);
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await expect
      .poll(overviewCounters, { timeout: 30_000, interval: 1_000 })
      .toEqual(expectedCounters());
    // The segment with most meetings: its results table shows the engine's posterior.
    const [top] = await queryRows<{ segment: string }>(
      db.db,
      sql`select segment from experiments.arms group by segment order by sum(successes) desc, segment limit 1`,
    );
    await page.goto(`${stack.webUrl}/experiments?segment=${encodeURIComponent(top!.segment)}`);
    await page.getByRole("heading", { name: "Experiments", level: 1 }).waitFor();
    const table = async () => {
      const rows = await page.locator("table.xp-table tbody tr").all();
      const out: Record<string, [number, number]> = {};
      for (const row of rows) {
        const variant = (await row.locator("th code").textContent()) ?? "";
        const [sends, wins] = await row.locator("td.num").allTextContents();
        out[variant] = [Number(sends?.replaceAll(",", "")), Number(wins?.replaceAll(",", ""))];
      }
      return out;
    };
    const engine = async () =>
      Object.fromEntries(
        (
          await queryRows<{ variant_id: string; exposures: number; successes: number }>(
            db.db,
            sql`select variant_id, exposures, successes::float8 as successes from experiments.arms where segment = ${top!.segment}`,
          )
        ).map((a) => [a.variant_id, [a.exposures, a.successes] as [number, number]]),
      );
    // The page follows the engine's snapshots live: it shows the engine's counts within seconds.
    let shown: Record<string, [number, number]> = {};
    let truth: Record<string, [number, number]> = {};
    await waitFor(
      async () => {
        [shown, truth] = [await table(), await engine()];
        return JSON.stringify(sortKeys(shown)) === JSON.stringify(sortKeys(truth));
      },
      { timeoutMs: 30_000, intervalMs: 1_000, message: `${top!.segment}'s results table` },
    ).catch((error) => {
      throw new Error(
        `${(error as Error).message}: shown ${JSON.stringify(shown)}, engine ${JSON.stringify(truth)}`,
      );
    });
    expect(Object.values(shown).reduce((n, [, w]) => n + w, 0)).toBeGreaterThan(0);
  });

  it("loses nothing and contacts nobody twice when one instance of each service is SIGKILLed mid-wave", {
    timeout: 200_000,
  }, async () => {
    const world = await readWorldFile(LEADS_WORLD);
    const wave = drawLeads(world, WAVE, "wave2", 2);
    leads.push(...wave);
    const victims = (["ingest", "scoring", "experiments", "dispatch"] as const).map(
      (app) => stack.of(app)[0]!,
    );
    let killed = false;
    await sender.send(wave, {
      onLead: (done) => {
        if (done === WAVE / 3 && !killed) {
          killed = true;
          for (const v of victims) v.kill("SIGKILL");
        }
      },
    });
    expect(killed).toBe(true);
    for (const v of victims) expect((await v.exited).signal).toBe("SIGKILL");
    // The survivors take over the dead members' partitions (after the broker's session
    // timeout, 30 s) and claimed sends (after the lease, 10 s here).
    const all = await untilSettled(leads, 150_000);
    summary.bothWaves = outcomeOf(await expectEveryLeadHandledOnce(leads, all), all);
    summary.bothWavesOutcomes = await expectMeetingsCredited(60_000);
    summary.retriedWebhooks = sender.retries;
    summary.redelivered = Object.fromEntries(
      Object.values(TOPICS).map((t) => [t, tap.redelivered(t)]),
    );
    for (const app of ["ingest", "scoring", "experiments", "dispatch"] as const)
      expect(stack.of(app)[1]!.alive()).toBe(true);
    // The dashboard, fed by the gateway that watched it all, agrees with the topics.
    await page.goto(`${stack.webUrl}/`);
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await expect
      .poll(overviewCounters, { timeout: 30_000, interval: 1_000 })
      .toEqual(expectedCounters());
  });
});

/** One `text[]` parameter (drizzle would spread a bare array into a row of parameters). */
const textArray = (values: readonly string[]) => sql`${sql.param([...values])}::text[]`;

/** Counts of how the leads ended, with each reason for not contacting one. */
function outcomeOf(
  r: { sent: number; notSent: Journey[]; notRequested: Journey[] },
  all: Journey[],
): Record<string, unknown> {
  const reasons: Record<string, number> = {};
  for (const j of [...r.notSent, ...r.notRequested]) {
    const why = (j.final?.reason ?? j.notRequested ?? "").replace(/\(score [\d.]+\)/, "(score …)");
    reasons[why] = (reasons[why] ?? 0) + 1;
  }
  return { leads: all.length, sent: r.sent, notContacted: reasons };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
