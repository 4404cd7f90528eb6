// The engine on embedded PGlite with a seeded RNG and a controllable clock.
import { DEFAULT_CHANGE, observeRecent, recentGuardrailsAfterSends, seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { envelope, type OutreachDispatched } from "@pw/events";
import { and, asc, eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ONE_CLEAR_WINNER, optOuts, outcome, scored, settleEvidence } from "../test/fixtures.ts";
import {
  defaultEngineSettings,
  type EngineOptions,
  type EngineSettings,
  engineBuilder,
  seedPlaybook,
} from "./engine.ts";

let handle: DbHandle;
let clock = new Date("2026-11-24T12:00:00Z");
const now = () => clock;
type Request = {
  type: string;
  subject: string;
  data: {
    requestId: string;
    variantId: string;
    subject: string;
    body: string;
    priority: number;
    track?: string;
    timeZone?: string;
    followUps?: { step: number; delayDays: number; subject: string; body: string }[];
    explanation: { summary: string; propensity: number; policy: string };
  };
};
const requests = async () =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  )
    .map((r) => r.payload as Request)
    .filter((p) => p.type === "outreach.requested.v1");
const arms = () => handle.db.select().from(schema.arms).orderBy(asc(schema.arms.variantId));
const armOf = async (segment: string, variantId: string) =>
  (
    await handle.db
      .select()
      .from(schema.arms)
      .where(and(eq(schema.arms.segment, segment), eq(schema.arms.variantId, variantId)))
  )[0]!;
/** `experiment.updates.v1` events in the outbox, oldest first. */
const updates = async () =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  )
    .map((r) => r.payload as { type: string; subject: string; data: Record<string, unknown> })
    .filter((p) => p.type.startsWith("experiment."));
/** A segment where only `variantId` may be sent: an operator paused the others. */
const onlyActive = async (segment: string, variantId: string) => {
  const live = ["pain_point", "social_proof", "roi", "short_question", "case_study"];
  await handle.db.insert(schema.arms).values(
    live.map((v) => ({
      segment,
      variantId: v,
      status: v === variantId ? ("active" as const) : ("paused" as const),
      statusReason: v === variantId ? null : "pause by ops@acme.io: legal review",
    })),
  );
};
/** The production defaults (config.ts) with a test's `settings` over them. */
const build = ({
  settings,
  ...o
}: Partial<Omit<EngineOptions, "settings">> & { settings?: Partial<EngineSettings> } = {}) =>
  engineBuilder({
    db: handle.db,
    rng: seededRng(1),
    now,
    ...o,
    settings: { ...defaultEngineSettings(), ...settings },
  });

describe("experiment engine", () => {
  beforeEach(async () => {
    clock = new Date("2026-11-24T12:00:00Z");
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  it("requests personalised outreach for a hot lead, with its cadence, propensity, state and a plain explanation", async () => {
    const engine = build();
    expect(await engine.handleScored(scored("l1"))).toBe("queued");
    expect(await engine.drain()).toMatchObject({ requested: 1, waiting: 0 });
    const [req] = await requests();
    expect(req!.data.body).toContain("Ada");
    expect(req!.data.body + req!.data.subject).not.toMatch(/\{\{|undefined/);
    expect(req!.data.explanation).toMatchObject({ policy: "burn_in", propensity: 0.2 });
    expect(req!.data.explanation.summary).toMatch(/still exploring/);
    expect(req!.data.followUps?.map((f) => [f.step, f.delayDays])).toEqual([
      [1, 3],
      [2, 7],
    ]);
    expect(req!.data.followUps![1]!.subject).toBe("Should I close the loop, Ada?");
    expect((await arms()).reduce((n, a) => n + a.exposures, 0)).toBe(1);
    // The decision keeps the state it was made in, for off-policy evaluation.
    const [decision] = await handle.db.select().from(schema.decisions);
    const context = decision!.context!;
    expect(context.arms.map((a) => a.id)).toHaveLength(5);
    expect(context.policy.burnIn).toBeGreaterThan(0);
    expect(decision!.requestedAt).toEqual(clock);
  });

  it("does not contact cold, uncontactable or recently contacted leads, and ignores a redelivery", async () => {
    const engine = build({ rng: seededRng(2) });
    const first = scored("l2");
    expect(await engine.handleScored(first)).toBe("queued");
    expect(await engine.handleScored(first)).toBe("duplicate");
    await engine.drain();
    expect(await engine.handleScored(scored("l2"))).toBe("skipped"); // rescored inside the window
    expect(await engine.handleScored(scored("l3", { tier: "cold" }))).toBe("skipped");
    expect(await engine.handleScored(scored("l4", { contactable: false }))).toBe("skipped");
    await engine.drain();
    expect(await requests()).toHaveLength(1);
  });

  it("closes the attribution window on the demo's clock: 14 days at 720× are 28 minutes", async () => {
    const engine = build({ settings: { attributionDays: 14, clockScale: 720 } });
    await engine.handleScored(scored("a"));
    await engine.drain();
    expect(await requests()).toHaveLength(1);
    clock = new Date(clock.getTime() + 27 * 60_000);
    expect(await engine.settleExpired()).toBe(0);
    clock = new Date(clock.getTime() + 2 * 60_000);
    expect(await engine.settleExpired()).toBe(1);
  });

  it("counts a reward once, non-response at the end of the window as a failure once, and nothing late", async () => {
    const engine = build({ rng: seededRng(3), settings: { attributionDays: 14 } });
    const decidedOn = scored("a");
    await engine.handleScored(decidedOn);
    await engine.handleScored(scored("b"));
    await engine.drain();
    const [ra, rb] = await requests();
    const win = outcome(ra!.subject, "meeting_booked", clock, ra!.data.requestId);
    expect(await engine.handleOutcome(win)).toBe("rewarded");
    expect(await engine.handleOutcome(win)).toBe("duplicate");
    expect(await engine.handleOutcome(outcome(ra!.subject, "meeting_booked", clock))).toBe(
      "ignored",
    ); // already settled
    expect(
      await engine.handleOutcome(outcome(rb!.subject, "opened", clock, rb!.data.requestId)),
    ).toBe("ignored"); // not the reward
    clock = new Date(clock.getTime() + 15 * 86_400_000);
    expect(await engine.settleExpired()).toBe(1);
    expect(await engine.settleExpired()).toBe(0);
    expect(
      await engine.handleOutcome(outcome(rb!.subject, "meeting_booked", clock, rb!.data.requestId)),
    ).toBe("ignored");
    const totals = (await arms()).reduce(
      (t, a) => ({ s: t.s + a.successes, f: t.f + a.failures }),
      { s: 0, f: 0 },
    );
    expect(totals).toEqual({ s: 1, f: 1 });
    // Each send's final word goes to scoring once, when its window closed: rewarded or not,
    // naming the score it was decided on (scoring's labels).
    const settled = (await handle.db.select().from(schema.experimentsOutbox))
      .filter((r) => r.topic === "outreach.settlements.v1")
      .map((r) => r.payload as { id: string; subject: string; data: Record<string, unknown> });
    expect(settled.map((e) => [e.subject, e.data.rewarded, e.data.reward])).toEqual(
      expect.arrayContaining([
        ["a", true, "meeting_booked"],
        ["b", false, "meeting_booked"],
      ]),
    );
    expect(settled).toHaveLength(2);
    const a = settled.find((e) => e.subject === "a")!;
    expect(a.data).toMatchObject({
      requestId: ra!.data.requestId,
      scoredEventId: decidedOn.id,
      closedAt: clock.toISOString(),
    });
    expect(a.id).toBe(`settled_${ra!.data.requestId}`);
  });

  it("learns which variant converts in a segment and sends it most of the traffic", async () => {
    const engine = build({
      rng: seededRng(4),
      settings: { attributionDays: 1 },
      policy: { burnIn: 20 },
    });
    const truth: Record<string, number> = {
      pain_point: 0.05,
      social_proof: 0.05,
      roi: 0.05,
      short_question: 0.05,
      case_study: 0.35,
    };
    const worldRng = seededRng(99);
    let seen = 0;
    for (let day = 0; day < 12; day++) {
      for (let i = 0; i < 50; i++) await engine.handleScored(scored(`lead-${day}-${i}`));
      await engine.drain();
      const reqs = await requests();
      for (const r of reqs.slice(seen)) {
        if (worldRng() < truth[r.data.variantId]!)
          await engine.handleOutcome(outcome(r.subject, "meeting_booked", clock, r.data.requestId));
      }
      seen = reqs.length;
      clock = new Date(clock.getTime() + 2 * 86_400_000);
      await engine.settleExpired();
    }
    const lastDays = (await requests()).slice(-150);
    const share =
      lastDays.filter((r) => r.data.variantId === "case_study").length / lastDays.length;
    expect(share).toBeGreaterThan(0.7);
    expect(lastDays.at(-1)!.data.explanation.summary).toMatch(/P\(best\)|traffic floor/);
  });

  it("when capacity is short, the highest-intent leads go first and the rest wait — then nurture, never dropped", async () => {
    const engine = build({
      settings: { capacity: { perDay: 3, nurtureAfterHours: 48, agingHalfLifeHours: 24 } },
    });
    const scores = [35, 92, 50, 71, 88, 40, 60];
    for (const [i, score] of scores.entries())
      await engine.handleScored(scored(`lead-${score}`, { score, tier: i === 1 ? "hot" : "warm" }));
    expect(await engine.drain()).toMatchObject({ requested: 3, waiting: 4 });
    expect((await requests()).map((r) => r.subject).sort()).toEqual(
      ["lead-71", "lead-88", "lead-92"].sort(),
    );
    // Capacity is spent for today: nothing more goes out, however often drain runs.
    expect(await engine.drain()).toMatchObject({ requested: 0, waiting: 4 });
    // A fresh high-intent lead tomorrow beats yesterday's slightly higher score (recency).
    clock = new Date(clock.getTime() + 86_400_000);
    await engine.handleScored(scored("lead-fresh-55", { score: 55 }));
    expect(await engine.drain()).toMatchObject({ requested: 3, waiting: 2 });
    const day2 = (await requests()).slice(3).map((r) => r.subject);
    expect(day2).toEqual(["lead-fresh-55", "lead-60", "lead-50"]);
    // Day 3: the two left have waited > 48 h → nurture track (requested, flagged, not 1:1).
    clock = new Date(clock.getTime() + 2 * 86_400_000);
    expect(await engine.drain()).toMatchObject({ nurtured: 2, requested: 0, waiting: 0 });
    const nurtured = (await requests()).filter((r) => r.data.track === "nurture");
    expect(nurtured.map((r) => r.subject).sort()).toEqual(["lead-35", "lead-40"]);
    expect(nurtured[0]!.data.explanation.summary).toMatch(/nurture track instead of being dropped/);
    const queue = await handle.db.select().from(schema.queue);
    expect(queue.every((q) => q.status !== "queued")).toBe(true);
    // Nurture sends are not experiment exposures.
    expect((await arms()).reduce((n, a) => n + a.exposures, 0)).toBe(6);
  });

  it.each([
    [
      "names a slot the renderer does not know",
      "Hi {{firstName}}, re {{secret}}",
      /unknown slot \{\{secret\}\}/,
    ],
    ["renders longer than a request may be", `{{painPoint}}${"x".repeat(19_990)}`, /body/],
  ])(
    "a variant that cannot be rendered (it %s) fails only its own decisions, with the reason; the drain decides the other leads",
    async (_name, bodyTemplate, why) => {
      const engine = build();
      // As if stored before upserts were checked, or written by hand.
      await handle.db.insert(schema.playbook).values({
        variantId: "broken",
        channel: "email",
        angle: "broken",
        subjectTemplate: "Hi {{firstName}}",
        bodyTemplate,
        cadenceStep: 0,
      });
      const live = ["pain_point", "social_proof", "roi", "short_question", "case_study", "broken"];
      // exec-mid can only choose the broken variant; smb never does.
      await handle.db.insert(schema.arms).values(
        live.flatMap(
          (variantId) =>
            [
              {
                segment: "exec-mid",
                variantId,
                status: variantId === "broken" ? "active" : "paused",
              },
              { segment: "smb", variantId, status: variantId === "broken" ? "paused" : "active" },
            ] as const,
        ),
      );
      // The broken leads have the higher scores: they are decided first.
      for (const id of ["b1", "b2"]) await engine.handleScored(scored(id, { score: 95 }));
      for (const id of ["g1", "g2"])
        await engine.handleScored(scored(id, { segment: "smb", score: 60 }));
      const result = await engine.drain();
      expect(result).toMatchObject({ requested: 2, waiting: 0 });
      expect(result.failed.map((f) => f.leadId).sort()).toEqual(["b1", "b2"]);
      expect((await requests()).map((r) => r.subject).sort()).toEqual(["g1", "g2"]);
      const queue = await handle.db.select().from(schema.queue);
      for (const lead of ["b1", "b2"]) {
        const row = queue.find((q) => q.leadId === lead)!;
        expect(row.status).toBe("rejected");
        expect(row.note).toMatch(/^decision failed \(variant broken\): /);
        expect(row.note).toMatch(why);
      }
      // Nothing was counted for the failed decisions, and later drains are not held up.
      expect(
        (await arms()).find((a) => a.variantId === "broken" && a.segment === "exec-mid")!.exposures,
      ).toBe(0);
      await engine.handleScored(scored("g3", { segment: "smb" }));
      expect(await engine.drain()).toMatchObject({ requested: 1, failed: [] });
    },
  );

  it("a nurture variant that cannot be rendered sets those leads aside with the reason, and the drain goes on", async () => {
    const engine = build({
      settings: {
        capacity: { ...defaultEngineSettings().capacity, perDay: 1, nurtureAfterHours: 1 },
      },
    });
    await handle.db
      .update(schema.playbook)
      .set({ bodyTemplate: "Hi {{firstName}}, {{unsubscribeLink}}" })
      .where(eq(schema.playbook.variantId, "nurture_digest"));
    await engine.handleScored(scored("old"));
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    await engine.handleScored(scored("new"));
    const result = await engine.drain();
    expect(result).toMatchObject({ requested: 1, nurtured: 0 });
    expect(result.failed).toEqual([
      expect.objectContaining({ leadId: "old", reason: expect.stringMatching(/unsubscribeLink/) }),
    ]);
    const old = (await handle.db.select().from(schema.queue)).find((q) => q.leadId === "old")!;
    expect(old).toMatchObject({ status: "rejected" });
    expect(old.note).toMatch(/^decision failed \(variant nurture_digest\): .*unsubscribeLink/);
  });

  it("an operator-prioritised lead goes before higher scores", async () => {
    const engine = build({
      settings: { capacity: { ...defaultEngineSettings().capacity, perDay: 1 } },
    });
    await engine.handleScored(scored("high", { score: 95 }));
    await engine.handleScored(scored("vip", { score: 45 }));
    await handle.db.update(schema.queue).set({ boost: 1000 }).where(eq(schema.queue.leadId, "vip"));
    await engine.drain();
    expect((await requests()).map((r) => r.subject)).toEqual(["vip"]);
  });

  it("pauses an arm whose bounce or opt-out rate breaks a guardrail as the outcome arrives, whatever its conversions", async () => {
    const engine = build({
      settings: {
        guardrails: { ...defaultEngineSettings().guardrails, negativeReplyRate: 0.5 },
        reward: "replied",
      },
      policy: { burnIn: 1000 },
    });
    for (let i = 0; i < 150; i++) await engine.handleScored(scored(`g${i}`));
    await engine.drain();
    const reqs = await requests();
    // roi bounces hard and converts best; short_question gets opt-outs in replies.
    for (const r of reqs) {
      const at = clock;
      if (r.data.variantId === "roi") {
        await engine.handleOutcome(
          outcome(r.subject, "replied", at, r.data.requestId, undefined, {
            replyText: "Yes, let's talk",
          }),
        );
        await engine.handleOutcome(
          outcome(r.subject, "bounced", at, r.data.requestId, undefined, { bounceType: "hard" }),
        );
      }
      if (r.data.variantId === "short_question")
        await engine.handleOutcome(
          outcome(r.subject, "replied", at, r.data.requestId, undefined, {
            replyText: "Please remove me from your list",
          }),
        );
      if (r.data.variantId === "social_proof")
        await engine.handleOutcome(
          outcome(r.subject, "bounced", at, r.data.requestId, undefined, { bounceType: "soft" }),
        );
    }
    // Paused by the outcomes themselves: the review has nothing left to do.
    const byId = Object.fromEntries((await arms()).map((a) => [a.variantId, a]));
    expect(byId.roi!.status).toBe("paused");
    // The fourth bounce made it sure (never fewer than four), whatever roi's replies.
    expect(byId.roi!.statusReason).toMatch(
      /^Paused 'roi' in exec-mid: hard-bounce rate at least [\d.]+% \(80% sure\) over the 5% limit, 4 bounces in \d+ sends$/,
    );
    expect(byId.short_question!.status).toBe("paused");
    expect(byId.short_question!.statusReason).toMatch(
      /^Paused 'short_question' in exec-mid: opt-out rate at least [\d.]+% \(80% sure\) over the 2% limit, 4 opt-outs in \d+ sends$/,
    );
    expect(byId.social_proof!.status).toBe("active"); // soft bounces are not deliverability failures
    expect(await engine.review()).toEqual([]);
    // Opt-outs in replies put the leads on the do-not-contact list: a rescore is not contacted.
    const optedOut = reqs.find((r) => r.data.variantId === "short_question")!;
    clock = new Date(clock.getTime() + 30 * 86_400_000);
    expect(await engine.handleScored(scored(optedOut.subject))).toBe("skipped");
    // No new traffic on paused arms.
    for (let i = 0; i < 40; i++) await engine.handleScored(scored(`after${i}`));
    await engine.drain();
    const later = (await requests()).slice(reqs.length).map((r) => r.data.variantId);
    expect(later).toHaveLength(40);
    expect(later).not.toContain("roi");
    expect(later).not.toContain("short_question");
  });

  it("the bounce that makes a pause sure pauses the variant in its own transaction, announced with the numbers — no review tick", async () => {
    const engine = build();
    await onlyActive("emea", "case_study");
    for (let i = 0; i < 40; i++) await engine.handleScored(scored(`e${i}`, { segment: "emea" }));
    expect(await engine.drain()).toMatchObject({ requested: 40 });
    const reqs = await requests();
    const bounce = (r: Request) =>
      engine.handleOutcome(
        outcome(r.subject, "bounced", clock, r.data.requestId, undefined, { bounceType: "hard" }),
      );
    // Three bounces in 40 sends: never fewer than four, however high the rate looks.
    for (const r of reqs.slice(0, 3)) expect(await bounce(r)).toBe("guardrail");
    expect((await armOf("emea", "case_study")).status).toBe("active");
    expect(await bounce(reqs[3]!)).toBe("guardrail");
    const arm = await armOf("emea", "case_study");
    expect(arm.status).toBe("paused");
    const reason =
      "Paused 'case_study' in emea: hard-bounce rate at least 6.6% (80% sure) over the 5% limit, 4 bounces in 40 sends";
    expect(arm.statusReason).toBe(reason);
    // Announced in the same transaction: the status change, then the segment it left blocked.
    const announced = (await updates()).filter((u) => u.subject === "segment:emea");
    expect(announced.map((u) => u.type)).toEqual([
      "experiment.variant_status_changed.v1",
      "experiment.segment_blocked.v1",
    ]);
    expect(announced[0]!.data).toMatchObject({
      segment: "emea",
      variantId: "case_study",
      from: "active",
      to: "paused",
      by: "engine",
      reason,
    });
    expect(announced[1]!.data.reason).toMatch(
      /^Nothing can be sent in emea: every variant is paused or suppressed — case_study paused \(hard-bounce rate at least 6\.6% .*\); pain_point paused \(pause by ops@acme\.io: legal review\);/,
    );
    // A redelivered bounce changes nothing; the next emea lead waits for an operator.
    expect(await bounce(reqs[3]!)).toBe("guardrail"); // a new event id: counted, already paused
    expect((await updates()).filter((u) => u.subject === "segment:emea")).toHaveLength(2);
    await engine.handleScored(scored("e-late", { segment: "emea" }));
    expect(await engine.drain()).toMatchObject({ requested: 0, waiting: 1 });
  });

  it("a variant hard-bouncing 8% is paused by the engine within 150 sends to it in each of 10 seeds — at the send the pure test names", async () => {
    const engine = build();
    // One segment per seed, each with only case_study to send: a send a round, then its bounce.
    const seeds = Array.from({ length: 10 }, (_, i) => i + 1);
    for (const seed of seeds) await onlyActive(`seed-${seed}`, "case_study");
    const world = new Map(seeds.map((seed) => [seed, seededRng(seed)]));
    const sends = new Map(seeds.map((seed) => [seed, 0]));
    let running = seeds;
    for (let round = 0; running.length > 0 && round < 200; round++) {
      for (const seed of running)
        await engine.handleScored(scored(`s${seed}-${round}`, { segment: `seed-${seed}` }));
      expect(await engine.drain()).toMatchObject({ requested: running.length });
      const made = await handle.db
        .select()
        .from(schema.decisions)
        .where(sql`${schema.decisions.leadId} like ${`%-${round}`}`);
      for (const seed of running) {
        sends.set(seed, sends.get(seed)! + 1);
        const d = made.find((m) => m.segment === `seed-${seed}`)!;
        if (world.get(seed)!() < 0.08)
          await engine.handleOutcome(
            outcome(d.leadId, "bounced", clock, d.requestId, undefined, { bounceType: "hard" }),
          );
      }
      const paused = await handle.db
        .select({ segment: schema.arms.segment })
        .from(schema.arms)
        .where(and(eq(schema.arms.variantId, "case_study"), eq(schema.arms.status, "paused")));
      running = running.filter((seed) => !paused.some((p) => p.segment === `seed-${seed}`));
    }
    const sendsToPause = seeds.map((seed) => sends.get(seed)!);
    // The same streams as guardrails.test.ts: the engine pauses at exactly that send.
    expect(sendsToPause).toEqual([48, 33, 34, 51, 65, 13, 38, 25, 137, 32]);
    expect(Math.max(...sendsToPause)).toBeLessThanOrEqual(150);
  }, 180_000);

  it("a send dispatch withdrew re-tests the arm: one send fewer can make the pause sure", async () => {
    const engine = build();
    await onlyActive("emea", "case_study");
    for (let i = 0; i < 54; i++) await engine.handleScored(scored(`w${i}`, { segment: "emea" }));
    await engine.drain();
    const reqs = await requests();
    for (const r of reqs.slice(0, 4))
      await engine.handleOutcome(
        outcome(r.subject, "bounced", clock, r.data.requestId, undefined, { bounceType: "hard" }),
      );
    // Four bounces in 54 sends: at least 4.9% — not sure to be over 5%.
    expect((await armOf("emea", "case_study")).status).toBe("active");
    const skipped = reqs.at(-1)!;
    const verdict = envelope({
      type: "outreach.dispatched.v1",
      source: "pw://dispatch",
      subject: skipped.subject,
      data: {
        requestId: skipped.data.requestId,
        variantId: skipped.data.variantId,
        channel: "email",
        status: "skipped",
        reason: "quiet hours exhausted the send window",
        provider: { name: "local" },
        cadenceStep: 0,
        attempt: 1,
        at: clock.toISOString(),
      },
    }) as OutreachDispatched;
    expect(await engine.handleDispatched(verdict)).toBe("withdrawn");
    const arm = await armOf("emea", "case_study");
    expect(arm.status).toBe("paused");
    expect(arm.statusReason).toMatch(/4 bounces in 53 sends$/);
  });

  it("the review re-tests with the same bound, as a backstop for evidence no outcome tested (a limit lowered since)", async () => {
    const engine = build();
    await engine.handleScored(scored("b0"));
    await engine.drain();
    // 5 bounces in 120 sends: 4.2% — under the 5% limit, over a 2% one.
    await handle.db
      .update(schema.arms)
      .set({ exposures: 120, bounces: 5 })
      .where(eq(schema.arms.variantId, "roi"));
    expect(await engine.review()).toEqual([]);
    const stricter = build({
      settings: { guardrails: { ...defaultEngineSettings().guardrails, bounceRate: 0.02 } },
    });
    expect(await stricter.review()).toEqual(["exec-mid/roi (guardrail)"]);
    expect((await armOf("exec-mid", "roi")).statusReason).toBe(
      "Paused 'roi' in exec-mid: hard-bounce rate at least 2.8% (80% sure) over the 2% limit, 5 bounces in 120 sends",
    );
  });

  it("announces each opt-out on lead.consent.v1 once, with its source and request, never the reply's words", async () => {
    const engine = build();
    for (const id of ["r", "u"]) await engine.handleScored(scored(id));
    await engine.drain();
    const byLead = Object.fromEntries((await requests()).map((r) => [r.subject, r.data.requestId]));
    const words = "Please remove me from your list";
    const asked = outcome("r", "replied", clock, byLead.r, undefined, { replyText: words });
    expect(await engine.handleOutcome(asked)).toBe("guardrail");
    expect(await engine.handleOutcome(asked)).toBe("duplicate"); // redelivered
    // The same wish in a second reply, and a later unsubscribe: the lead is already listed.
    await engine.handleOutcome(
      outcome("r", "replied", clock, byLead.r, undefined, { replyText: words }),
    );
    await engine.handleOutcome(outcome("r", "unsubscribed", clock, byLead.r));
    let events = await optOuts(handle.db);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "lead.opted_out.v1",
      source: "pw://experiments",
      subject: "r",
      data: {
        source: "reply_text",
        reason: "asked in a reply",
        requestId: byLead.r,
        at: clock.toISOString(),
      },
    });
    expect(events[0]!.data.channel).toBeUndefined(); // every channel, like the engine's list
    expect(JSON.stringify(events)).not.toMatch(/remove me/i);

    const unsubscribed = outcome("u", "unsubscribed", clock, byLead.u);
    await engine.handleOutcome(unsubscribed);
    await engine.handleOutcome(unsubscribed);
    events = await optOuts(handle.db);
    expect(events.map((e) => [e.subject, e.data.source, e.data.requestId])).toEqual([
      ["r", "reply_text", byLead.r],
      ["u", "unsubscribe_link", byLead.u],
    ]);
    // Written in the same transaction as the list row: both leads are listed.
    expect(
      (await handle.db.select().from(schema.doNotContact)).map((d) => d.leadId).sort(),
    ).toEqual(["r", "u"]);
    // An unsubscribe with no request known (a link from an old mail) is announced too.
    await engine.handleOutcome(outcome("stranger", "unsubscribed", clock));
    const last = (await optOuts(handle.db)).at(-1)!;
    expect(last.subject).toBe("stranger");
    expect(last.data.requestId).toBeUndefined();
  });

  it("requests carry the lead's time zone when it is a real IANA zone, and none otherwise", async () => {
    const engine = build({
      settings: {
        capacity: { ...defaultEngineSettings().capacity, perDay: 6, nurtureAfterHours: 1 },
      },
    });
    const zones: Record<string, string | undefined> = {
      ny: "America/New_York",
      lower: "europe/london",
      mars: "Mars/Olympus",
      offset: "+05:00",
      blank: "",
      none: undefined,
    };
    for (const [id, timezone] of Object.entries(zones))
      await engine.handleScored(scored(id, timezone === undefined ? {} : { timezone }));
    await engine.drain();
    const byLead = Object.fromEntries((await requests()).map((r) => [r.subject, r.data]));
    expect(Object.keys(byLead).sort()).toEqual(Object.keys(zones).sort());
    expect(byLead.ny!.timeZone).toBe("America/New_York");
    expect(byLead.lower!.timeZone).toBe("Europe/London"); // canonical spelling
    for (const id of ["mars", "offset", "blank", "none"])
      expect(byLead[id]!, id).not.toHaveProperty("timeZone");
    // The nurture track carries it too.
    await engine.handleScored(scored("late", { timezone: "Asia/Tokyo", score: 30, tier: "warm" }));
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    expect(await engine.drain()).toMatchObject({ nurtured: 1 });
    const nurtured = (await requests()).find((r) => r.subject === "late")!;
    expect(nurtured.data).toMatchObject({ track: "nurture", timeZone: "Asia/Tokyo" });
  });

  it("reward can be a positive reply: intent decides, and an out-of-office keeps the window open", async () => {
    const engine = build({ settings: { reward: "positive_reply" } });
    for (const id of ["p", "n", "o"]) await engine.handleScored(scored(id));
    await engine.drain();
    const byLead = Object.fromEntries((await requests()).map((r) => [r.subject, r.data.requestId]));
    const reply = (lead: string, text: string) =>
      engine.handleOutcome(
        outcome(lead, "replied", clock, byLead[lead], undefined, { replyText: text }),
      );
    expect(await reply("p", "Sounds interesting, send me pricing")).toBe("rewarded");
    expect(await reply("n", "Who is this?")).toBe("ignored");
    expect(await reply("o", "I am out of the office until Monday")).toBe("ignored");
    expect(await reply("o", "Thanks for waiting — happy to chat, when are you free?")).toBe(
      "rewarded",
    );
    expect(await reply("n", "Not interested, we already use a tool")).toBe("guardrail");
    const decisions = await handle.db.select().from(schema.decisions);
    expect(
      decisions
        .filter((d) => d.rewarded)
        .map((d) => d.leadId)
        .sort(),
    ).toEqual(["o", "p"]);
  });

  it("a first touch dispatch skipped or failed is not a send: no exposure, no failure when its window closes", async () => {
    const engine = build({ settings: { attributionDays: 14 } });
    for (const id of ["sent", "skipped", "deferred"]) await engine.handleScored(scored(id));
    await engine.drain();
    const byLead = Object.fromEntries((await requests()).map((r) => [r.subject, r.data]));
    const dispatched = (lead: string, status: string) =>
      envelope({
        type: "outreach.dispatched.v1",
        source: "pw://dispatch",
        subject: lead,
        data: {
          requestId: byLead[lead]!.requestId,
          variantId: byLead[lead]!.variantId,
          channel: "email",
          status,
          reason: status === "skipped" ? "quiet hours exhausted the send window" : undefined,
          provider: { name: "local" },
          cadenceStep: 0,
          attempt: 1,
          at: clock.toISOString(),
        },
      }) as OutreachDispatched;
    const skip = dispatched("skipped", "skipped");
    expect(await engine.handleDispatched(dispatched("sent", "sent"))).toBe("ignored");
    expect(await engine.handleDispatched(dispatched("deferred", "deferred"))).toBe("ignored");
    expect(await engine.handleDispatched(skip)).toBe("withdrawn");
    expect(await engine.handleDispatched(skip)).toBe("duplicate");
    expect((await arms()).reduce((n, a) => n + a.exposures, 0)).toBe(2);
    clock = new Date(clock.getTime() + 15 * 86_400_000);
    expect(await engine.settleExpired()).toBe(2);
    expect((await arms()).reduce((n, a) => n + a.failures, 0)).toBe(2);
  });

  it("a campaign configured to forget decays its evidence by elapsed time, whoever reviews and however often", async () => {
    const engine = build({ settings: { evidenceHalfLifeDays: 7 } });
    await engine.handleScored(scored("d0"));
    await engine.drain();
    await handle.db.update(schema.arms).set({ successes: 100, failures: 900, decayedAt: clock });
    clock = new Date(clock.getTime() + 7 * 86_400_000);
    await engine.review();
    await engine.review(); // a second review at the same time changes nothing
    const [a] = await arms();
    expect(a!.successes).toBeCloseTo(50, 3);
    expect(a!.failures).toBeCloseTo(450, 3);
    clock = new Date(clock.getTime() + 14 * 86_400_000);
    await build({ settings: { evidenceHalfLifeDays: 7 } }).review(); // another instance
    const [b] = await arms();
    expect(b!.successes).toBeCloseTo(12.5, 3);
  });

  it("without change detection, a campaign configured to forget never suppresses a losing variant", async () => {
    const suppression = { minExposures: 300, threshold: 0.05, consecutiveChecks: 3 };
    const forgetting = build({
      settings: { evidenceHalfLifeDays: 365, change: false },
      suppression,
    });
    await forgetting.handleScored(scored("f0"));
    await forgetting.drain();
    await settleEvidence(handle.db, ONE_CLEAR_WINNER, { decayedAt: clock });
    for (let i = 0; i < 3; i++) expect(await forgetting.review()).toEqual([]);
    expect((await arms()).every((a) => a.status === "active")).toBe(true);
    // The same evidence with the defaults (change detection on): the loser is suppressed,
    // for now — a change re-tests it.
    const keeping = build({ suppression });
    const changed: string[] = [];
    for (let i = 0; i < 3; i++) changed.push(...(await keeping.review()));
    expect(changed).toContain("exec-mid/pain_point");
  });

  it("when the leader's recent rate falls, the segment starts over and its suppressed variant is re-tested, announced", async () => {
    const engine = build();
    await engine.handleScored(scored("c0"));
    await engine.drain();
    // case_study converted 5% over 10,000 sends, but its last ~1,000 only 2%;
    // pain_point was suppressed at 2%.
    const set = (variantId: string, values: Partial<typeof schema.arms.$inferInsert>) =>
      handle.db
        .update(schema.arms)
        .set(values)
        .where(and(eq(schema.arms.segment, "exec-mid"), eq(schema.arms.variantId, variantId)));
    await settleEvidence(handle.db, { social_proof: 0.03, roi: 0.035, short_question: 0.04 });
    await set("case_study", {
      exposures: 10_000,
      successes: 500,
      failures: 9_500,
      closedSuccesses: 500,
      closedFailures: 9_500,
      recentSuccesses: 20,
      recentFailures: 980,
    });
    await set("pain_point", {
      exposures: 400,
      successes: 8,
      failures: 392,
      status: "suppressed",
      statusReason: "P(best) stayed low",
    });
    const changes = await engine.review();
    expect(changes).toEqual(["exec-mid (change detected)", "exec-mid/pain_point (re-tested)"]);
    const leader = await armOf("exec-mid", "case_study");
    // Starts over from the recent window's 2%, with no more than the kept evidence.
    expect(leader.successes + leader.failures).toBeCloseTo(DEFAULT_CHANGE.keep, 6);
    expect(leader.successes / (leader.successes + leader.failures)).toBeCloseTo(0.02, 6);
    expect(leader.exposures).toBe(10_000); // sends stay sends
    const retested = await armOf("exec-mid", "pain_point");
    expect(retested.status).toBe("active");
    const events = await updates();
    const detected = events.find((e) => e.type === "experiment.change_detected.v1")!;
    expect(detected.subject).toBe("segment:exec-mid");
    expect(detected.data).toMatchObject({
      segment: "exec-mid",
      changed: [{ variantId: "case_study", recentRate: 0.02, longRunRate: 0.05 }],
      revived: ["pain_point"],
    });
    expect(detected.data.reason).toMatch(/'case_study' 5\.0% → 2\.0%.*re-testing 'pain_point'/);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: "experiment.variant_status_changed.v1",
        data: expect.objectContaining({
          variantId: "pain_point",
          from: "suppressed",
          to: "active",
        }),
      }),
    );
    // Steady now: the next review finds nothing to restart.
    expect(await engine.review()).toEqual([]);
  });

  it("a steady variant is not restarted: a recent rate within noise of its long run changes nothing", async () => {
    const engine = build();
    await engine.handleScored(scored("c1"));
    await engine.drain();
    await handle.db
      .update(schema.arms)
      .set({
        successes: 500,
        failures: 9_500,
        closedSuccesses: 500,
        closedFailures: 9_500,
        recentSuccesses: 42,
        recentFailures: 958,
      })
      .where(eq(schema.arms.variantId, "case_study"));
    expect(await engine.review()).toEqual([]);
    expect((await armOf("exec-mid", "case_study")).successes).toBe(500);
  });

  it("a send counts in the recent window and the closed counts when its window closes, rewarded or not", async () => {
    const engine = build();
    await engine.handleScored(scored("r1"));
    await engine.handleScored(scored("r2"));
    await engine.drain();
    const [first, second] = await requests();
    expect(
      await engine.handleOutcome(outcome("r1", "meeting_booked", clock, first!.data.requestId)),
    ).toBe("rewarded");
    // The reward counts for the posterior at once, but not yet for change detection.
    const early = await armOf("exec-mid", first!.data.variantId);
    expect(early.successes).toBe(1);
    expect([early.recentSuccesses, early.closedSuccesses]).toEqual([0, 0]);
    clock = new Date(clock.getTime() + 15 * 86_400_000);
    expect(await engine.settleExpired()).toBe(1);
    const perArm = new Map<string, { s: number; f: number }>();
    for (const [r, reward] of [
      [first!, 1],
      [second!, 0],
    ] as const) {
      const c = perArm.get(r.data.variantId) ?? { s: 0, f: 0 };
      if (reward) c.s++;
      else c.f++;
      perArm.set(r.data.variantId, c);
    }
    for (const [variantId, c] of perArm) {
      const arm = await armOf("exec-mid", variantId);
      const want = observeRecent(undefined, c.s, c.f, DEFAULT_CHANGE);
      expect(arm.recentSuccesses).toBeCloseTo(want.successes, 4);
      expect(arm.recentFailures).toBeCloseTo(want.failures, 4);
      expect([arm.closedSuccesses, arm.closedFailures]).toEqual([c.s, c.f]);
    }
    // Closed once: a second settlement changes nothing.
    await engine.settleExpired();
    const again = await armOf("exec-mid", first!.data.variantId);
    expect(again.closedSuccesses + again.closedFailures).toBe(
      perArm.get(first!.data.variantId)!.s + perArm.get(first!.data.variantId)!.f,
    );
  });

  it("a variant whose list goes bad late is paused on its recent sends, though its history is healthy", async () => {
    const engine = build();
    await engine.handleScored(scored("late"));
    await engine.drain();
    const [req] = await requests();
    const { variantId, requestId } = req!.data;
    // 5,000 sends at 1% hard bounces, but about 8% over its last ~400.
    await handle.db
      .update(schema.arms)
      .set({ exposures: 5_000, bounces: 80, recentSends: 400, recentBounces: 33 })
      .where(and(eq(schema.arms.segment, "exec-mid"), eq(schema.arms.variantId, variantId)));
    expect(
      await engine.handleOutcome(
        outcome("late", "bounced", clock, requestId, undefined, { bounceType: "hard" }),
      ),
    ).toBe("guardrail");
    const arm = await armOf("exec-mid", variantId);
    expect(arm.status).toBe("paused");
    expect(arm.bounces).toBe(81);
    expect(arm.statusReason).toMatch(
      new RegExp(
        `^Paused '${variantId}' in exec-mid: hard-bounce rate at least [\\d.]+% \\(80% sure\\) over the 5% limit, about 34 bounces in its last 400 sends`,
      ),
    );
  });

  it("each send moves the recent guardrail window as the policy computes it", async () => {
    await onlyActive("exec-mid", "roi");
    await handle.db
      .update(schema.arms)
      .set({ recentSends: 100, recentBounces: 10, recentUnsubscribes: 2, recentNegativeReplies: 1 })
      .where(and(eq(schema.arms.segment, "exec-mid"), eq(schema.arms.variantId, "roi")));
    const engine = build();
    await engine.handleScored(scored("w1"));
    await engine.handleScored(scored("w2"));
    await engine.drain();
    const roi = await armOf("exec-mid", "roi");
    const want = recentGuardrailsAfterSends(
      { exposures: 100, bounces: 10, unsubscribes: 2, negativeReplies: 1 },
      2,
    );
    expect(roi.exposures).toBe(2);
    expect(roi.recentSends).toBeCloseTo(want.exposures, 4);
    expect(roi.recentBounces).toBeCloseTo(want.bounces, 4);
    expect(roi.recentUnsubscribes).toBeCloseTo(want.unsubscribes, 4);
    expect(roi.recentNegativeReplies).toBeCloseTo(want.negativeReplies, 4);
  });

  it("pools priors across segments by default, so a new segment starts from what the others learned", async () => {
    const decideIn = async (segment: string, strength?: number) => {
      const engine = build(
        strength === undefined ? {} : { settings: { pooledPriorStrength: strength } },
      );
      await engine.handleScored(scored(`lead-${segment}`, { segment }));
      await engine.drain();
      const [decision] = await handle.db
        .select()
        .from(schema.decisions)
        .where(eq(schema.decisions.segment, segment));
      return decision!.context!.arms;
    };
    await decideIn("veteran");
    // The veteran segment has learned: case_study converts at 20% over 1,000 sends.
    await handle.db
      .update(schema.arms)
      .set({ exposures: 1000, successes: 200, failures: 800 })
      .where(and(eq(schema.arms.segment, "veteran"), eq(schema.arms.variantId, "case_study")));
    const pooled = (await decideIn("newcomer")).find((a) => a.id === "case_study")!;
    expect(pooled.prior?.alpha).toBeCloseTo(1 + 50 * 0.2); // the default strength, 50
    const flat = (await decideIn("loner", 0)).find((a) => a.id === "case_study")!;
    expect(flat.prior).toBeUndefined();
  });

  it("uses a stackAI-style copywriter and intent classifier when given, recording who wrote the copy", async () => {
    const engine = build({
      copywriter: {
        write: async ({ facts }) => ({
          subject: `Rewritten for ${facts.firstName}`,
          body: "A bespoke note.",
          writer: "stackai",
        }),
      },
      intent: { classify: async () => ({ intent: "positive" }) },
      settings: { reward: "positive_reply" },
    });
    await engine.handleScored(scored("w"));
    await engine.drain();
    const [req] = await requests();
    expect(req!.data.subject).toBe("Rewritten for Ada");
    expect((req!.data as { copy?: unknown }).copy).toEqual({ writer: "stackai" });
    expect(
      await engine.handleOutcome(
        outcome("w", "replied", clock, req!.data.requestId, undefined, { replyText: "hm" }),
      ),
    ).toBe("rewarded");
  });
});
