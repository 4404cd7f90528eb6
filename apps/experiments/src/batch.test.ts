// A drain decided as one batch (ADR 0016), on embedded PGlite: while its copy is being
// written, other things happen to its leads — another instance takes one, a rescore
// another, one opts out, another instance spends capacity — and the batch's one
// transaction must still send each lead at most once, to nobody on the do-not-contact
// list, within the day's capacity, highest priority first, counting only real sends.
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { outcome, scored } from "../test/fixtures.ts";
import type { Copywriter } from "./context.ts";
import { createCopywriter } from "./copywriter.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { grantCapacity } from "./store.ts";

let handle: DbHandle;
let now = new Date("2026-11-24T12:00:00Z");
const clock = () => now;
const DAY = "2026-11-24";
const template = createCopywriter();

const settings = (perDay: number) => ({
  ...defaultEngineSettings(),
  capacity: { ...defaultEngineSettings().capacity, perDay },
});
const build = (perDay: number, copywriter: Copywriter = template, seed = 1) =>
  engineBuilder({
    db: handle.db,
    settings: settings(perDay),
    rng: seededRng(seed),
    now: clock,
    copywriter,
  });

/** `outreach.requested.v1` in the outbox, oldest first, as lead ids. */
const requested = async () =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  )
    .filter((r) => r.topic === "outreach.requested.v1")
    .map((r) => r.key);
const queueRow = async (leadId: string) =>
  (await handle.db.select().from(schema.queue).where(eq(schema.queue.leadId, leadId)))[0]!;
const exposures = async () =>
  (await handle.db.select().from(schema.arms)).reduce((n, a) => n + a.exposures, 0);
const used = async () =>
  (await handle.db.select().from(schema.sendCapacity).where(eq(schema.sendCapacity.day, DAY)))[0]
    ?.used ?? 0;

describe("a drain decided as one batch", () => {
  beforeEach(async () => {
    now = new Date("2026-11-24T12:00:00Z");
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
  });
  afterEach(() => handle.close());

  it("skips what was taken or opted out meanwhile, sets a failed render aside, and spends only the capacity left — highest priority first", async () => {
    // A variant that cannot render, the only one smb may send: smb leads fail, exec-mid never picks it.
    await handle.db.insert(schema.playbook).values({
      variantId: "broken",
      channel: "email",
      angle: "broken",
      subjectTemplate: "Hi {{firstName}}",
      bodyTemplate: "Hi {{firstName}}, re {{secret}}",
    });
    const live = ["pain_point", "social_proof", "roi", "short_question", "case_study", "broken"];
    await handle.db.insert(schema.arms).values(
      live.flatMap(
        (variantId) =>
          [
            {
              segment: "exec-mid",
              variantId,
              status: variantId === "broken" ? "paused" : "active",
            },
            { segment: "smb", variantId, status: variantId === "broken" ? "active" : "paused" },
          ] as const,
      ),
    );
    const other = build(8, template, 2); // another instance on the same database
    // While the last lead's copy is written, everything happens at once.
    let raced = false;
    const engine = build(8, {
      write: async (req) => {
        if (req.leadId === "c3" && !raced) {
          raced = true;
          expect((await other.drain(1)).requested).toBe(1); // takes "vip", the first in line
          await other.handleScored(scored("rescored", { score: 91 })); // a new event for it
          await other.handleOutcome(outcome("late-optout", "unsubscribed", clock()));
          expect(await grantCapacity(handle.db, DAY, 5, 8)).toBe(5); // sent elsewhere today
        }
        return template.write(req);
      },
    });
    const scores: Record<string, number> = {
      vip: 95,
      rescored: 90,
      "early-optout": 88,
      "late-optout": 85,
      c1: 80,
      c2: 75,
      c3: 70,
      w1: 60,
      w2: 55,
    };
    for (const [id, score] of Object.entries(scores))
      await engine.handleScored(scored(id, { score }));
    await engine.handleScored(scored("broken-1", { segment: "smb", score: 82 }));
    await engine.handleOutcome(outcome("early-optout", "unsubscribed", clock()));

    const result = await engine.drain();
    // 8 candidates (the day's room); of them only c1 and c2 could be sent: 1 + 5 + 2 = 8.
    expect(result).toMatchObject({ requested: 2, pendingApproval: 0, waiting: 4 });
    expect(result.failed).toEqual([
      expect.objectContaining({ leadId: "broken-1", variantId: "broken" }),
    ]);
    expect(await requested()).toEqual(["vip", "c1", "c2"]); // vip once, by the other instance
    expect(await used()).toBe(8);
    expect(await exposures()).toBe(3);
    const decisions = await handle.db.select().from(schema.decisions);
    expect(decisions.map((d) => d.leadId).sort()).toEqual(["c1", "c2", "vip"]);
    for (const id of ["early-optout", "late-optout"])
      expect(await queueRow(id)).toMatchObject({
        status: "do_not_contact",
        note: "on the do-not-contact list",
      });
    expect((await queueRow("broken-1")).note).toMatch(/^decision failed \(variant broken\): /);
    // Beyond the capacity left, and rescored meanwhile: still waiting, as they were.
    expect(await queueRow("c3")).toMatchObject({ status: "queued", resolvedAt: null, note: null });
    expect(await queueRow("rescored")).toMatchObject({ status: "queued", score: 91 });

    // Tomorrow they go out in priority order, each once; nothing for the opted-out.
    now = new Date(now.getTime() + 86_400_000);
    expect(await engine.drain()).toMatchObject({ requested: 4, waiting: 0 });
    expect((await requested()).slice(3)).toEqual(["rescored", "c3", "w1", "w2"]);
    expect(await exposures()).toBe(7);
  });

  it("when the copy waits on a vendor, the decisions already written are sent first", async () => {
    const sentBefore: number[] = [];
    const engine = build(10, {
      write: async (req) => {
        sentBefore.push((await requested()).length);
        await new Promise((r) => setTimeout(r, 5));
        return template.write(req);
      },
    });
    for (let i = 0; i < 5; i++) await engine.handleScored(scored(`s${i}`, { score: 90 - i }));
    expect(await engine.drain()).toMatchObject({ requested: 5 });
    // No send waits for another lead's copy.
    expect(sentBefore).toEqual([0, 1, 2, 3, 4]);
    expect(await requested()).toEqual(["s0", "s1", "s2", "s3", "s4"]);
  });
});
