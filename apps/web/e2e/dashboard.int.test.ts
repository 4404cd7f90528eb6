// The command center in a real browser: Debian's Chromium driven by playwright-core,
// against the production build (`next start`) on the one-process stack (every service,
// the gateway included, on PGlite and the in-process bus). An operator signs in, sees the
// empty state, watches leads arrive without a reload, opens a journey, pauses a variant,
// stops sending with the kill switch, approves a held decision; axe scans every page, and
// every page is photographed at 1440×900 (test-results/screenshots; with
// UPDATE_SCREENSHOTS=1 also docs/screenshots, which the README shows).
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { queryRows } from "@pw/db";
import { signed } from "@pw/ingest/sign-request";
import { createLogger } from "@pw/logger";
import { requireServices, waitFor } from "@pw/testkit";
import { sql } from "drizzle-orm";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, ensureBuilt, startDashboard } from "./harness.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && requireServices())
  throw new Error(
    `REQUIRE_SERVICES=1 but no Chromium at ${CHROMIUM} (bash scripts/services.sh browser)`,
  );

const ROOT = join(import.meta.dirname, "../../..");
const SHOTS = join(ROOT, "test-results/screenshots");
const DOC_SHOTS = join(ROOT, "docs/screenshots");
const secret = `whsec_${randomBytes(24).toString("base64")}`;
const ADMIN = { username: "ada", password: "correct horse battery staple", role: "admin" as const };

describe.runIf(hasBrowser)("the command center in Chromium", () => {
  let dash: Dashboard;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    await ensureBuilt();
    dash = await startDashboard({
      accounts: [ADMIN],
      env: {
        WEBHOOK_SECRET: secret,
        EXPERIMENT_REVIEW_EVERY_MS: "500",
        DISPATCH_QUIET_HOURS: "off",
      },
      logger: createLogger({ service: "e2e", level: "warn" }),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    // The browser's own confirm() (engaging the kill switch) is answered yes.
    page.on("dialog", (d) => void d.accept().catch(() => {}));
    await mkdir(SHOTS, { recursive: true });
  });

  // A failing step leaves a picture of what the browser showed.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail" && page)
      await page
        .screenshot({
          path: join(SHOTS, `FAILED-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}.png`),
        })
        .catch(() => {});
  });

  afterAll(async () => {
    await browser?.close();
    await dash?.stop();
  });

  /** A lead with intent: the contact from the CRM, then a demo request and a pricing view. */
  async function injectLead(n: string, name: [string, string], title = "VP Engineering") {
    const leadId = `lf_ct_${n}`;
    const created = JSON.stringify({
      type: "contact.created",
      occurredAt: new Date().toISOString(),
      object: {
        id: `ct_${n}`,
        fields: {
          $email: { value: `${name[0].toLowerCase()}.${n}@example.com`, valueType: "EMAIL" },
          $name: { value: { firstName: name[0], lastName: name[1] }, valueType: "FULL_NAME" },
          $title: { value: title, valueType: "TEXT" },
        },
        relationships: {},
      },
    });
    const r = await dash.stack.ingest.app.inject(
      signed("/webhooks/lightfield", created, { secret }),
    );
    expect(r.statusCode).toBe(202);
    for (const type of ["demo_requested", "pricing_viewed"]) {
      const s = await dash.stack.ingest.app.inject(
        signed(
          "/webhooks/signals",
          JSON.stringify({ type, occurredAt: new Date().toISOString(), leadId }),
          { secret },
        ),
      );
      expect(s.statusCode).toBe(202);
    }
    return leadId;
  }

  /** The left navigation's link (page bodies link to the same pages). */
  const nav = (name: string) =>
    page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true }).click();

  const inbox = (leadId: string) =>
    queryRows<{ subject: string }>(
      dash.stack.db.db,
      sql`select subject from agent.inbox where lead_id = ${leadId}`,
    );

  async function shoot(name: string) {
    const file = join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: false });
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      await mkdir(DOC_SHOTS, { recursive: true });
      await copyFile(file, join(DOC_SHOTS, `${name}.png`));
    }
  }

  async function noSeriousA11yViolations(what: string) {
    const result = await new AxeBuilder({ page }).analyze();
    const serious = result.violations.filter(
      (v) => v.impact === "serious" || v.impact === "critical",
    );
    expect(
      serious.map(
        (v) =>
          `${what}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
            .map((n) => n.target.join(" "))
            .slice(0, 3)
            .join(", ")}`,
      ),
    ).toEqual([]);
  }

  it("sends an unsigned-in visitor to the sign-in page, refuses a wrong password, and signs in", async () => {
    await page.goto(`${dash.url}/leads`);
    await page.waitForURL(/\/login\?next=%2Fleads/);
    await noSeriousA11yViolations("login");
    await shoot("login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong username or password").waitFor();
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${dash.url}/leads`);
    await expect.poll(() => page.getByText("Stream: live").count(), { timeout: 15_000 }).toBe(1);
  });

  it("shows an empty state that says what to do next", async () => {
    await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
    await page.getByText(/No leads yet/).waitFor();
    await noSeriousA11yViolations("leads (empty)");
    await shoot("leads-empty");
  });

  it("shows leads as they arrive, without a reload, and opens a lead's journey", async () => {
    // A reload would drop this marker: the rows must arrive through the live stream.
    await page.evaluate(() => {
      (window as unknown as { marker: number }).marker = 42;
    });
    const leadId = await injectLead("grace", ["Grace", "Hopper"]);
    await page
      .getByRole("link", { name: /Grace Hopper/ })
      .first()
      .waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    // The message goes out; the journey shows the decision and the send as received.
    await waitFor(async () => (await inbox(leadId)).length === 1, {
      timeoutMs: 30_000,
      message: "the lead's message in the simulated inbox",
    });
    const [mail] = await inbox(leadId);
    await page
      .getByRole("link", { name: /Grace Hopper/ })
      .first()
      .click();
    await page.waitForURL(new RegExp(`/leads/${leadId}$`));
    await page.getByText(mail!.subject, { exact: false }).first().waitFor({ timeout: 20_000 });
    await noSeriousA11yViolations("lead detail");
    await shoot("lead-detail");
  });

  it("pauses a variant and shows it paused once the engine confirms", async () => {
    await nav("Experiments");
    await page.getByRole("heading", { name: "Experiments", level: 1 }).waitFor();
    const pause = page.getByRole("button", { name: /^Pause \S+ in / }).first();
    await pause.waitFor({ timeout: 20_000 });
    const label = (await pause.getAttribute("aria-label"))!;
    const [, variant, segment] = /^Pause (\S+) in (.+)$/.exec(label)!;
    // By name, not `.first()` again: the rows re-sort as the engine's estimates move, and
    // the first button may by now belong to another variant.
    await page.getByRole("button", { name: label, exact: true }).click();
    await page.getByLabel(/Why pause/).fill("e2e: checking the pause");
    await page.getByRole("button", { name: `Pause ${variant}`, exact: true }).click();
    await page
      .getByText(/^Applied/)
      .first()
      .waitFor({ timeout: 20_000 });
    // The row now offers the way back, and the engine's standings say paused.
    await page.getByRole("button", { name: `Resume ${variant} in ${segment}` }).waitFor();
    const standings = (await (await page.request.get(`${dash.url}/api/experiments`)).json()) as {
      segments: { segment: string; arms: { variantId: string; status: string }[] }[];
    };
    const arm = standings.segments
      .find((x) => x.segment === segment)
      ?.arms.find((a) => a.variantId === variant);
    expect(arm?.status).toBe("paused");
    await noSeriousA11yViolations("experiments");
    await shoot("experiments");
  });

  it("stops sending when the kill switch is flipped, and says so on every page", async () => {
    const toggle = page.getByRole("switch", { name: /Kill switch/ });
    await expect.poll(() => toggle.textContent(), { timeout: 15_000 }).toContain("off");
    await toggle.click(); // confirmed in the browser's dialog (accepted by the test)
    await page
      .getByText(/Kill switch is ON/)
      .first()
      .waitFor({ timeout: 20_000 });
    // Both services that act on it confirmed it: the Controls page says so.
    await nav("Controls");
    await page
      .getByText(/Confirmed by .*dispatch/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page
      .getByText(/Confirmed by .*experiments/)
      .first()
      .waitFor({ timeout: 20_000 });
    const leadId = await injectLead("alan", ["Alan", "Turing"]);
    // What happens instead of a send: the engine keeps the scored lead in its queue.
    await waitFor(
      async () =>
        (
          await queryRows<{ status: string }>(
            dash.stack.db.db,
            sql`select status from experiments.queue where lead_id = ${leadId}`,
          )
        )[0]?.status === "queued",
      { timeoutMs: 30_000, message: "the engine to queue the lead while the switch is on" },
    );
    expect(await inbox(leadId)).toEqual([]);
    await nav("Overview");
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await noSeriousA11yViolations("overview (kill switch on)");
    await shoot("overview-kill-switch");
    // Released: the queued lead is decided and its message goes out.
    await toggle.click();
    await expect.poll(() => toggle.textContent(), { timeout: 20_000 }).toContain("off");
    await waitFor(async () => (await inbox(leadId)).length === 1, {
      timeoutMs: 30_000,
      message: "the held message to go out after the release",
    });
    await nav("Outreach");
    await page.getByRole("heading", { name: "Outreach", level: 1 }).waitFor();
    await page
      .getByRole("link", { name: /Alan Turing|lf_ct_alan/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await noSeriousA11yViolations("outreach");
    await shoot("outreach");
  });

  it("holds decisions in approval mode and sends one once it is approved", async () => {
    await nav("Controls");
    await page.getByRole("heading", { name: "Controls", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Turn approval mode on" }).click();
    await page
      .getByText(/Approval mode is ON/)
      .first()
      .waitFor({ timeout: 20_000 });
    const leadId = await injectLead("katherine", ["Katherine", "Johnson"]);
    const approve = page.getByRole("button", { name: /^Approve and send/ }).first();
    await approve.waitFor({ timeout: 30_000 });
    expect(await inbox(leadId)).toEqual([]);
    await noSeriousA11yViolations("controls");
    await shoot("controls");
    await approve.click();
    await waitFor(async () => (await inbox(leadId)).length === 1, {
      timeoutMs: 30_000,
      message: "the approved message in the inbox",
    });
    await page
      .getByText(/^Approved/)
      .first()
      .waitFor({ timeout: 20_000 });
  });

  it("every page passes an automated accessibility scan and is photographed", async () => {
    for (const [name, path, heading] of [
      ["overview", "/", "Overview"],
      ["leads", "/leads", "Leads"],
      ["health", "/health", "Health"],
    ] as const) {
      await page.goto(`${dash.url}${path}`);
      await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
      await expect.poll(() => page.getByText(/^Loading/).count(), { timeout: 20_000 }).toBe(0);
      await noSeriousA11yViolations(name);
      await shoot(name);
    }
  });
});
