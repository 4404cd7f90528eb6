/**
 * What stops outreach: outcomes (an unsubscribe or hard bounce opts the lead out; a reply,
 * booking or conversion ends the running cadences), opt-outs others learned
 * (`lead.consent.v1`: the engine reading "remove me" in a reply), and operator commands
 * (do-not-contact, suppress, the kill switch) — verified like the engine verifies them
 * (ADR 0009). Every send it stops is reported `skipped` with the cause.
 */
import type { KeyObject } from "node:crypto";
import type { Db, Executor } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import {
  type LeadConsent,
  type OperatorCommand,
  type OutreachOutcome,
  verifyCommand,
} from "@pw/events";
import type { Clock } from "./clock.ts";
import { DISPATCHED, dispatched, outbox } from "./events.ts";
import { cancelScheduled, optOut, setKillSwitch, setSuppressed } from "./store.ts";

const ENDS_CADENCE: Record<string, string> = {
  replied: "the lead replied",
  meeting_booked: "the lead booked a meeting",
  converted: "the lead converted",
};

export function consentBuilder(o: {
  db: Db;
  clock: Clock;
  provider: "truefoundry" | "local";
  auth: { keys: ReadonlyMap<string, KeyObject>; maxAgeMs: number; maxSkewMs: number };
}) {
  const { db, clock } = o;

  async function stop(tx: Executor, leadId: string, reason: string) {
    const now = clock.now();
    const stopped = await cancelScheduled(tx, leadId, reason, now);
    await outbox.enqueue(
      tx,
      DISPATCHED,
      stopped.map((row) => dispatched(row, { status: "skipped", reason }, now, o.provider)),
    );
    return stopped.length;
  }

  async function handleOutcome(event: OutreachOutcome): Promise<string> {
    if (event.type !== "outreach.outcome.v1") return "ignored";
    const { outcome } = event.data;
    const leadId = event.subject;
    const optedOut =
      outcome === "unsubscribed"
        ? "unsubscribed"
        : outcome === "bounced" && event.data.bounceType !== "soft"
          ? "hard bounce"
          : undefined;
    if (optedOut)
      return db.transaction(async (tx) => {
        await optOut(tx, leadId, optedOut, clock.now());
        const n = await stop(tx, leadId, `opted out: ${optedOut}`);
        return n > 0 ? "opted_out_cancelled" : "opted_out";
      });
    const ends = ENDS_CADENCE[outcome];
    if (!ends) return "ignored";
    return db.transaction(async (tx) => {
      const now = clock.now();
      await tx
        .insert(schema.leadContact)
        .values({ leadId, stoppedAt: now, stopReason: ends, updatedAt: now })
        .onConflictDoUpdate({
          target: schema.leadContact.leadId,
          set: { stoppedAt: now, stopReason: ends, updatedAt: now },
        });
      const n = await stop(tx, leadId, `cadence cancelled: ${ends}`);
      return n > 0 ? "cadence_cancelled" : "no_cadence";
    });
  }

  async function handleConsent(event: LeadConsent): Promise<string> {
    const reason = `${event.data.source.replace("_", " ")}: ${event.data.reason}`;
    return db.transaction(async (tx) => {
      await optOut(tx, event.subject, reason, clock.now());
      const n = await stop(tx, event.subject, `opted out: ${reason}`);
      return n > 0 ? "opted_out_cancelled" : "opted_out";
    });
  }

  /** `unauthenticated` / `rejected` for refusals (the caller logs them), else what changed. */
  async function handleCommand(
    command: OperatorCommand,
  ): Promise<{ result: string; reason?: string; detail?: string }> {
    const verified = verifyCommand(command, { ...o.auth, now: new Date() });
    if (!verified.ok)
      return { result: "unauthenticated", reason: verified.reason, detail: verified.detail };
    const at = new Date(command.time);
    switch (command.type) {
      case "operator.kill_switch.v1":
        await setKillSwitch(db, {
          engaged: command.data.engaged,
          by: command.data.operator,
          reason: command.data.reason,
          at,
        });
        return { result: command.data.engaged ? "kill_switch_engaged" : "kill_switch_released" };
      case "operator.lead_command.v1": {
        const { action, operator } = command.data;
        if (action === "do_not_contact")
          return db.transaction(async (tx) => {
            await optOut(tx, command.subject, `operator ${operator}: do not contact`, clock.now());
            await stop(tx, command.subject, `opted out: do-not-contact by ${operator}`);
            return { result: "applied" };
          });
        if (action === "suppress" || action === "unsuppress")
          return db.transaction(async (tx) => {
            await setSuppressed(tx, command.subject, action === "suppress", clock.now());
            if (action === "suppress") await stop(tx, command.subject, "suppressed by an operator");
            return { result: "applied" };
          });
        return { result: "ignored" };
      }
      default:
        return { result: "ignored" };
    }
  }

  return { handleOutcome, handleConsent, handleCommand };
}
