// `pnpm seed` against the real ingest of the one-process stack (every service, in-process
// bus, PGlite), over its HTTP socket: the sample files' first 25 leads (all nine segments)
// are accepted and each is scored in its segment with its time zone, hot, warm and cold
// among them; a second replay is all duplicates and publishes nothing; a wrong secret is
// refused line by line and the CLI exits 1 saying why; simulated leads are accepted and
// scored; an outcome posted for a lead that was sent a message is credited once. Not all
// 200 leads: through the whole stack on one PGlite, ingest takes 6–35 webhooks/s while the
// consumers work, so the full replay is 30 s to 2 min (apps/seed/README.md).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Embedded, startEmbedded } from "@pw/embedded";
import { createLogger } from "@pw/logger";
import { waitFor } from "@pw/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLACES, TITLES } from "../scripts/sample-events.ts";
import type { SeedLine } from "./lines.ts";
import { postOutcome } from "./outcome.ts";
import { seedFiles } from "./seed-files.ts";
import { simulateLeads } from "./simulate.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../../..");
const SAMPLES = join(ROOT, "data/sample-events");
const CLI = join(import.meta.dirname, "cli.ts");
const secret = `whsec_${randomBytes(24).toString("base64")}`;

const read = (name: string) =>
  readFileSync(join(SAMPLES, name), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as SeedLine);
const lightfield = read("lightfield.ndjson");
const signals = read("signals.ndjson");
/** The leads the stack tests replay: the files' first, in order of first appearance. */
const LEADS = 25;
const leads = new Set([...new Set(lightfield.map((l) => l.lead!))].slice(0, LEADS));
const replayed = [...lightfield, ...signals].filter((l) => leads.has(l.lead!)).length;

type Scored = {
  segment: string;
  tier: string;
  facts: { company?: string; role?: string; timezone?: string };
};

/** The level of each of the generator's job titles (its tables are by the scorer's levels). */
const LEVEL = new Map<string, string>(
  Object.entries(TITLES).flatMap(([level, ts]) => ts.map((t): [string, string] => [t, level])),
);
const PERSONA: Record<string, string> = {
  c_level: "exec",
  vp: "exec",
  director: "manager",
  manager: "manager",
  individual: "practitioner",
};
/** Ingest reads a headcount band as its middle; the scorer bands it at 200 and 2,000. */
const BAND: Record<string, string> = {
  "1-10": "smb",
  "11-50": "smb",
  "51-200": "smb",
  "201-500": "mid",
  "501-1,000": "mid",
  "1,001-5,000": "enterprise",
  "5,001-10,000": "enterprise",
  "10,001+": "enterprise",
};

/** What each lead should be scored as, from the files: its segment and its time zone. */
function expected(lead: string) {
  const mine = lightfield.filter((l) => l.lead === lead);
  const contact = mine.filter((l) => l.route.includes("contact.")).at(-1)!;
  const account = mine.find((l) => l.route.includes("account."))!;
  const fields = contact.body.fields as Record<string, { value: unknown }>;
  const title = fields.title?.value as string | undefined;
  const headcount = (account.body.fields as Record<string, { label: string }>).$headcount!.label;
  const address = fields.$address!.value as { country: string; state: string | null };
  const zone =
    (fields.timezone?.value as string | undefined) ??
    PLACES.find((p) => p.country === address.country && p.state === address.state)!.zone;
  const persona = title ? PERSONA[LEVEL.get(title)!]! : "practitioner";
  return { segment: `${persona}-${BAND[headcount]}`, zone };
}

/** Events a service has handled from a topic (the kit's counter, every result). */
async function handled(app: Embedded["scoring"]["app"], topic: string): Promise<number> {
  const text = (await app.inject({ url: "/metrics" })).body;
  return [...text.matchAll(/^pw_events_handled_total\{([^}]*)\} (\d+)$/gm)]
    .filter((m) => m[1]!.includes(`topic="${topic}"`))
    .reduce((n, m) => n + Number(m[2]), 0);
}

/** Ingest's counter of publishes to a topic (a duplicate is answered without one). */
async function published(stack: Embedded, topic: string): Promise<number> {
  const text = (await stack.ingest.app.inject({ url: "/metrics" })).body;
  const m = new RegExp(
    `pw_ingest_publish_seconds_count\\{[^}]*topic="${topic}"[^}]*\\} (\\d+)`,
  ).exec(text);
  return m ? Number(m[1]) : 0;
}

describe("pnpm seed against the one-process stack", () => {
  let stack: Embedded;
  let url: string;
  const scored = new Map<string, Scored>();
  const sent = new Map<string, string>();
  const outcomes: { subject: string; outcome: string }[] = [];
  const closers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    stack = await startEmbedded({
      // A conversion is the campaign's reward here, so the outcome test sees it credited.
      env: {
        WEBHOOK_SECRET: secret,
        PORT: "0",
        DISPATCH_QUIET_HOURS: "off",
        EXPERIMENT_REWARD: "converted",
        EXPERIMENT_REVIEW_EVERY_MS: "500",
      },
      listen: true,
      logger: createLogger({ service: "seed-test", level: "silent" }),
    });
    url = stack.ingest.url!;
    closers.push(
      await stack.bus.subscribe({
        groupId: "seed-test-scored",
        topic: "lead.scored.v1",
        decode: (v) => v as { subject: string; data: Scored },
        handler: async (e) => void scored.set(e.subject, e.data),
      }),
      await stack.bus.subscribe({
        groupId: "seed-test-dispatched",
        topic: "outreach.dispatched.v1",
        decode: (v) => v as { subject: string; data: { status: string; requestId: string } },
        handler: async (e) =>
          void (e.data.status === "sent" && sent.set(e.subject, e.data.requestId)),
      }),
      await stack.bus.subscribe({
        groupId: "seed-test-outcomes",
        topic: "outreach.outcomes.v1",
        decode: (v) => v as { subject: string; data: { outcome: string } },
        handler: async (e) => void outcomes.push({ subject: e.subject, outcome: e.data.outcome }),
      }),
    );
  }, 60_000);

  afterAll(async () => {
    for (const c of closers) await c.close();
    await stack?.stop();
  });

  it("replays the sample files: every webhook accepted, every lead scored across segments, tiers and time zones", async () => {
    const progress: number[] = [];
    const summary = await seedFiles({
      ingestUrl: url,
      secret,
      files: SAMPLES,
      leads: LEADS,
      onProgress: (p) => progress.push(p.done),
    });
    const total = replayed;
    expect(summary).toMatchObject({
      total,
      accepted: total,
      duplicates: 0,
      rejected: 0,
      undelivered: 0,
      leads: leads.size,
    });
    expect(progress.at(-1)).toBe(total);
    expect(await published(stack, "lead.events.v1")).toBe(total);

    // Scoring has read every event, and each lead's latest score is in the segment its title
    // and company size make, with its time zone (named, or guessed from its address).
    await waitFor(async () => (await handled(stack.scoring.app, "lead.events.v1")) >= total, {
      timeoutMs: 45_000,
      message: "scoring to handle every replayed event",
    });
    await waitFor(
      () =>
        [...leads].every((lead) => {
          const want = expected(lead);
          const s = scored.get(lead);
          return s?.segment === want.segment && s.facts.timezone === want.zone;
        }),
      { timeoutMs: 15_000, message: "every replayed lead scored in its segment, with its zone" },
    );
    const finals = () => [...leads].map((l) => scored.get(l)!);
    expect(new Set(finals().map((s) => s.segment)).size).toBe(9);
    expect(new Set(finals().map((s) => s.facts.timezone)).size).toBeGreaterThanOrEqual(10);
    await waitFor(() => new Set(finals().map((s) => s.tier)).size === 3, {
      message: "hot, warm and cold leads",
    });
  }, 90_000);

  it("replays them again: every webhook a duplicate, nothing published", async () => {
    const before = await published(stack, "lead.events.v1");
    const summary = await seedFiles({ ingestUrl: url, secret, files: SAMPLES, leads: LEADS });
    const total = replayed;
    expect(summary).toMatchObject({ total, accepted: 0, duplicates: total, rejected: 0 });
    expect(await published(stack, "lead.events.v1")).toBe(before);
  }, 30_000);

  it("with a wrong secret, the CLI says every webhook was refused for its signature and exits 1", async () => {
    const wrong = `whsec_${randomBytes(24).toString("base64")}`;
    const before = await published(stack, "lead.events.v1");
    const args = ["--url", url, "--secret", wrong, "--leads", String(LEADS)];
    const failure = await run(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
    }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failure?.code).toBe(1);
    const total = replayed;
    expect(failure?.stdout).toContain(`${total} webhooks`);
    expect(failure?.stdout).toContain(`0 accepted, 0 duplicates, ${total} rejected`);
    expect(failure?.stdout).toMatch(
      new RegExp(`rejected ${total}× 401 invalid_signature: signature does not match`),
    );
    expect(failure?.stdout + failure!.stderr).not.toContain(wrong);
    expect(await published(stack, "lead.events.v1")).toBe(before);
  }, 30_000);

  it("simulates new leads that ingest accepts and scoring scores, each with its time zone", async () => {
    const summary = await simulateLeads({
      ingestUrl: url,
      secret,
      count: 5,
      ratePerSecond: 20,
      seed: 2026,
    });
    expect(summary).toMatchObject({
      leads: { requested: 5, started: 5 },
      rejected: 0,
      undelivered: 0,
    });
    expect(summary.accepted).toBe(summary.total);
    const ids = Array.from({ length: 5 }, (_, n) => `lf_${summary.prefix}-${n}`);
    await waitFor(() => ids.every((id) => scored.get(id)?.facts.timezone), {
      timeoutMs: 20_000,
      message: "the simulated leads scored",
    });
  }, 30_000);

  it("posts an outcome for a lead that was sent a message, once, and the engine credits it", async () => {
    const [lead] = await waitFor(() => [...sent.entries()][0] as [string, string], {
      timeoutMs: 30_000,
      message: "a sample lead sent its first message",
    });
    const first = await postOutcome({ ingestUrl: url, secret, leadId: lead, kind: "converted" });
    expect(first.status).toBe("accepted");
    const again = await postOutcome({ ingestUrl: url, secret, leadId: lead, kind: "converted" });
    expect(again).toMatchObject({ status: "duplicate", eventId: first.eventId });
    await waitFor(() => outcomes.some((o) => o.subject === lead && o.outcome === "converted"), {
      message: "the outcome on outreach.outcomes.v1",
    });
    expect(outcomes.filter((o) => o.subject === lead)).toHaveLength(1);
    // The engine matched it to the lead's decision and counted the campaign's reward, once.
    const rewards = async () => {
      const metrics = (await stack.experiments.app.inject({ url: "/metrics" })).body;
      return [...metrics.matchAll(/^pw_rewards_total\{[^}]*reward="converted"[^}]*\} (\d+)$/gm)]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    };
    await waitFor(async () => (await rewards()) > 0, {
      timeoutMs: 15_000,
      message: "the engine crediting the conversion",
    });
    expect(await rewards()).toBe(1);
  }, 60_000);
});
