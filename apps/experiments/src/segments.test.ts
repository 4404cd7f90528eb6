// A segment left with no variant it may send is announced blocked once, and unblocked once
// when one may send again — in the transaction of the change that caused it (PGlite).
import { seededRng } from "@pw/bandit";
import { createDb, type DbHandle, migrate } from "@pw/db";
import * as schema from "@pw/db/experiments";
import { commandKeyPair, signCommand } from "@pw/events";
import { asc, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { operatorCommand, scored } from "../test/fixtures.ts";
import { defaultEngineSettings, engineBuilder, seedPlaybook } from "./engine.ts";
import { operatorBuilder } from "./operator.ts";

let handle: DbHandle;
const gateway = commandKeyPair("gw-test");
const auth = { keys: new Map([[gateway.keyId, gateway.publicKey]]) };
const VARIANTS = ["case_study", "pain_point", "roi", "short_question", "social_proof"];

/** The blocked / unblocked events in the outbox, oldest first. */
const segmentEvents = async () =>
  (
    await handle.db
      .select()
      .from(schema.experimentsOutbox)
      .orderBy(asc(schema.experimentsOutbox.id))
  )
    .map((r) => r.payload as { type: string; subject: string; data: Record<string, unknown> })
    .filter((p) => /^experiment\.segment_(un)?blocked\.v1$/.test(p.type));

describe("segments with nothing to send", () => {
  let ops: ReturnType<typeof operatorBuilder>;
  let engine: ReturnType<typeof engineBuilder>;
  const variantCommand = async (
    action: "pause" | "resume" | "revive" | "retire",
    variantId: string,
    segment?: string,
  ) =>
    (
      await ops.handleCommand(
        signCommand(
          action === "retire"
            ? operatorCommand("operator.playbook_retire.v1", { variantId })
            : operatorCommand("operator.variant_command.v1", {
                action,
                variantId,
                ...(segment ? { segment } : {}),
                ...(action === "pause" ? { reason: "legal review" } : {}),
              }),
          gateway.privateKey,
          gateway.keyId,
        ),
      )
    ).result;

  beforeEach(async () => {
    handle = await createDb({ driver: "pglite" });
    await migrate(handle);
    await seedPlaybook(handle.db);
    engine = engineBuilder({
      db: handle.db,
      settings: defaultEngineSettings(),
      rng: seededRng(3),
    });
    ops = operatorBuilder({ db: handle.db, auth });
    // Two segments the engine has decided for.
    await engine.handleScored(scored("a", { segment: "exec-mid" }));
    await engine.handleScored(scored("b", { segment: "smb" }));
    await engine.drain();
  });
  afterEach(() => handle.close());

  it("pausing every variant of a segment announces it blocked once, naming each variant and why; resuming one, unblocked once", async () => {
    for (const v of VARIANTS.slice(0, 4))
      expect(await variantCommand("pause", v, "exec-mid")).toBe("applied");
    expect(await segmentEvents()).toEqual([]); // social_proof can still be sent
    expect(await variantCommand("pause", "social_proof", "exec-mid")).toBe("applied");
    let events = await segmentEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "experiment.segment_blocked.v1",
      subject: "segment:exec-mid",
      data: {
        segment: "exec-mid",
        reason:
          "Nothing can be sent in exec-mid: every variant is paused or suppressed — case_study paused (pause by ops@acme.io: legal review); pain_point paused (pause by ops@acme.io: legal review); roi paused (pause by ops@acme.io: legal review); short_question paused (pause by ops@acme.io: legal review); social_proof paused (pause by ops@acme.io: legal review). Its leads wait in the queue until an operator resumes or revives one.",
        variants: VARIANTS.map((variantId) => ({
          variantId,
          status: "paused",
          reason: "pause by ops@acme.io: legal review",
        })),
      },
    });
    // Its leads wait; the other segment goes on.
    await engine.handleScored(scored("c", { segment: "exec-mid" }));
    await engine.handleScored(scored("d", { segment: "smb" }));
    expect(await engine.drain()).toMatchObject({ requested: 1, waiting: 1 });

    // Pausing what is already paused — here, or everywhere — is no new change.
    expect(await variantCommand("pause", "roi", "exec-mid")).toBe("ignored");
    expect(await variantCommand("pause", "roi")).toBe("applied"); // smb's roi only
    await engine.review();
    expect(await segmentEvents()).toHaveLength(1);

    expect(await variantCommand("resume", "roi", "exec-mid")).toBe("applied");
    events = await segmentEvents();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      type: "experiment.segment_unblocked.v1",
      subject: "segment:exec-mid",
      data: {
        segment: "exec-mid",
        reason: "exec-mid can send again (roi resumed by ops@acme.io): roi may be chosen.",
        active: ["roi"],
      },
    });
    expect(await engine.drain()).toMatchObject({ requested: 1, waiting: 0 }); // lead c goes out
    // A second variant resumed is no new change; pausing roi again is a new block.
    expect(await variantCommand("resume", "case_study", "exec-mid")).toBe("applied");
    expect(await segmentEvents()).toHaveLength(2);
    await variantCommand("pause", "roi", "exec-mid");
    await variantCommand("pause", "case_study", "exec-mid");
    expect((await segmentEvents()).map((e) => e.type)).toEqual([
      "experiment.segment_blocked.v1",
      "experiment.segment_unblocked.v1",
      "experiment.segment_blocked.v1",
    ]);
    const [flag] = await handle.db
      .select()
      .from(schema.segments)
      .where(eq(schema.segments.segment, "exec-mid"));
    expect(flag!.blocked).toBe(true);
  });

  it("retiring the last variant a segment could send blocks it; adding one to the playbook unblocks it", async () => {
    for (const v of VARIANTS.slice(0, 4)) await variantCommand("pause", v, "smb");
    expect(await segmentEvents()).toEqual([]);
    expect(await variantCommand("retire", "social_proof")).toBe("applied");
    let events = await segmentEvents();
    expect(events.map((e) => [e.type, e.data.segment])).toEqual([
      ["experiment.segment_blocked.v1", "smb"],
    ]);
    expect(
      await ops.handleCommand(
        signCommand(
          operatorCommand("operator.playbook_upsert.v1", {
            variantId: "event_invite",
            channel: "email",
            angle: "event",
            subjectTemplate: "{{firstName}}, join our {{industry}} roundtable",
            bodyTemplate: "Hi {{firstName}}, a seat for {{company}} next month?",
            cadenceStep: 0,
            delayDays: 0,
          }),
          gateway.privateKey,
          gateway.keyId,
        ),
      ),
    ).toMatchObject({ result: "applied" });
    events = await segmentEvents();
    expect(events.map((e) => [e.type, e.data.segment])).toEqual([
      ["experiment.segment_blocked.v1", "smb"],
      ["experiment.segment_unblocked.v1", "smb"],
    ]);
    expect(events[1]!.data).toMatchObject({
      reason: "smb can send again (event_invite added by ops@acme.io): event_invite may be chosen.",
      active: ["event_invite"],
    });
    await engine.handleScored(scored("e", { segment: "smb" }));
    const r = await engine.drain();
    expect(r).toMatchObject({ requested: 1 });
  });
});
