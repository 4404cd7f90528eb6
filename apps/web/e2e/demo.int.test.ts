// The 3-minute demo, headless (docs/demo.md): `pnpm demo`'s own start (startDemo — every
// service in one process on PGlite, the recipients of data/worlds/demo.json on the demo
// clock, the dashboard's production build), then the presenter's steps: seed the sample
// leads (signed webhooks to ingest, as `pnpm seed` posts them), wait, and check what the
// script promises — leads scored, messages sent through the agent, conversions
// attributed, the engine suppressing or pausing a variant — and that the dashboard shows
// it to a signed-in operator. Figures (time to the first send, to the first conversion, to
// the first suppression or pause; resident memory) are printed for the closing note.
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { queryRows } from "@pw/db";
import { DEFAULT_WORLD, type RunningDemo, startDemo } from "@pw/embedded/demo";
import { seedFiles, simulateLeads } from "@pw/seed";
import { readWorldFile } from "@pw/simulator";
import { freePort, requireServices, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ROOT = join(import.meta.dirname, "../../..");
const SHOTS = join(ROOT, "test-results/screenshots");
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && requireServices())
  throw new Error(`REQUIRE_SERVICES=1 but no Chromium at ${CHROMIUM}`);

describe.runIf(hasBrowser)("the demo, headless", () => {
  let demo: RunningDemo | undefined;
  let dataDir = "";
  afterAll(async () => {
    await demo?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("seeds leads and shows them scored, contacted, converting, and the engine learning", {
    timeout: 300_000,
  }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), "pw-demo-"));
    const lines: string[] = [];
    const t0 = Date.now();
    demo = await startDemo({
      dataDir,
      reset: true,
      ports: { dashboard: await freePort(), gateway: await freePort(), ingest: await freePort() },
      env: {},
      say: (line) => lines.push(line),
    });
    const { state, stack } = demo;
    const events = {
      status: [] as { to: string; at: number; segment: string }[],
      firstSend: 0,
      firstMeeting: 0,
    };
    const sends = await stack.bus.subscribe({
      groupId: "smoke-sends",
      topic: "outreach.dispatched.v1",
      decode: (v) => v as { data: { status: string } },
      handler: async (e) => {
        if (e.data.status === "sent") events.firstSend ||= Date.now();
      },
    });
    const outcomes = await stack.bus.subscribe({
      groupId: "smoke-outcomes",
      topic: "outreach.outcomes.v1",
      decode: (v) => v as { data: { outcome: string } },
      handler: async (e) => {
        if (e.data.outcome === "meeting_booked") events.firstMeeting ||= Date.now();
      },
    });
    const updates = await stack.bus.subscribe({
      groupId: "smoke-updates",
      topic: "experiment.updates.v1",
      decode: (v) =>
        v as { type: string; data: { to?: string; segment?: string; reason?: string } },
      handler: async (e) => {
        if (e.type === "experiment.variant_status_changed.v1" && e.data.to)
          events.status.push({ to: e.data.to, at: Date.now(), segment: e.data.segment ?? "" });
      },
    });
    // Step 2 of the script: inject lead events — `pnpm seed` (the sample files: Lightfield
    // contacts, accounts, opportunities and signals), then `pnpm seed --simulate 300
    // --world data/worlds/demo.json` (new leads in the demo world's three segments).
    const seeded = Date.now();
    const target = { ingestUrl: state.ingestUrl, secret: state.webhookSecret };
    const samples = await seedFiles({ ...target, files: join(ROOT, "data/sample-events") });
    expect(samples.rejected).toBe(0);
    expect(samples.accepted).toBeGreaterThan(0);
    const simulated = await simulateLeads({
      ...target,
      count: 300,
      ratePerSecond: 40,
      world: await readWorldFile(DEFAULT_WORLD),
    });
    expect(simulated.rejected).toBe(0);
    const LEADS = samples.leads + 300;
    const seedingMs = Date.now() - seeded;
    const db = stack.db.db;
    const count = async (query: ReturnType<typeof sql>) =>
      (await queryRows<{ n: number }>(db, query))[0]?.n ?? 0;
    // Step 3: scored with reasons, outreach going out through the agent.
    await waitFor(
      async () => (await count(sql`select count(*)::int as n from scoring.leads`)) >= LEADS * 0.95,
      { timeoutMs: 60_000, message: "every seeded lead scored" },
    );
    await waitFor(async () => (await count(sql`select count(*)::int as n from agent.inbox`)) > 0, {
      timeoutMs: 60_000,
      message: "the first message in the simulated inbox",
    });
    // Step 4: conversions arriving, and the engine suppressing or pausing a variant.
    await waitFor(
      async () =>
        (await count(sql`select count(*)::int as n from experiments.decisions where rewarded`)) > 0,
      { timeoutMs: 120_000, message: "a meeting or conversion credited to its send" },
    );
    const lesson = (await waitFor(
      () => events.status.find((s) => s.to === "suppressed" || s.to === "paused"),
      { timeoutMs: 150_000, message: "a variant suppressed or paused by a guardrail" },
    ))!;
    await updates.close();
    await sends.close();
    await outcomes.close();
    const sent = await count(sql`select count(*)::int as n from agent.inbox`);
    const rewarded = await count(
      sql`select count(*)::int as n from experiments.decisions where rewarded`,
    );
    expect(sent).toBeGreaterThan(50);

    // The dashboard shows it to a signed-in operator.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      // docs/demo.md shows these (UPDATE_SCREENSHOTS=1 copies them to docs/screenshots).
      const shoot = async (name: string) => {
        await mkdir(SHOTS, { recursive: true });
        const file = join(SHOTS, `${name}.png`);
        await page.screenshot({ path: file });
        if (process.env.UPDATE_SCREENSHOTS === "1")
          await copyFile(file, join(ROOT, "docs/screenshots", `${name}.png`));
      };
      // The segment where the engine paused or suppressed a variant.
      await page.goto(
        `${state.dashboardUrl}/experiments?segment=${encodeURIComponent(lesson.segment)}`,
      );
      await page.getByLabel("Username").fill(state.operator.username);
      await page.getByLabel("Password").fill(state.operator.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(/\/experiments\?segment=/);
      await page
        .getByText(/Suppressed|Paused/)
        .first()
        .waitFor({ timeout: 30_000 });
      await shoot("demo-experiments");
      // Step 4 by hand: a lead that was sent to but has not answered books a meeting from
      // its page; the engine credits the send it was decided on.
      const [quiet] = await queryRows<{ lead_id: string }>(
        db,
        sql`select lead_id from experiments.decisions where state = 'requested' and settled_at is null order by decided_at limit 1`,
      );
      expect(quiet).toBeDefined();
      await page.goto(`${state.dashboardUrl}/leads/${quiet!.lead_id}`);
      await page.getByRole("button", { name: "Simulate a meeting" }).click();
      await page.getByText(/Posted a meeting/).waitFor({ timeout: 15_000 });
      await shoot("demo-lead-simulated-meeting");
      await waitFor(
        async () =>
          (await count(
            sql`select count(*)::int as n from experiments.decisions where lead_id = ${quiet!.lead_id} and rewarded`,
          )) === 1,
        { timeoutMs: 30_000, message: "the simulated meeting credited to the lead's send" },
      );
      await page.goto(`${state.dashboardUrl}/leads`);
      await page.locator('a[href^="/leads/lf_"]').first().waitFor({ timeout: 30_000 });
      await shoot("demo-leads");
      await page.goto(state.dashboardUrl);
      await page.getByRole("heading", { level: 1 }).first().waitFor({ timeout: 30_000 });
      await shoot("demo-overview");
    } finally {
      await browser.close();
    }
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      [
        `demo: ready in ${s(demo.startedInMs)}, ${Math.round(demo.rss() / 1048576)} MiB resident`,
        `seeded ${LEADS} leads in ${s(seedingMs)}: first send after ${s(events.firstSend - seeded)}, first meeting after ${s(events.firstMeeting - seeded)}, first suppression/pause after ${s(lesson.at - seeded)}`,
        `${sent} messages sent, ${rewarded} credited; status changes: ${events.status.map((e) => e.to).join(", ")}`,
        `total ${s(Date.now() - t0)}`,
      ].join("\n"),
    );
  });
});
