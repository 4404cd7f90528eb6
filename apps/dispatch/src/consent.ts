/**
 * What stops outreach: outcomes (an unsubscribe or hard bounce opts the lead out; a reply,
 * booking or conversion ends the running cadences), opt-outs others learned
 * (`lead.consent.v1`: the engine reading "remove me" in a reply), and operator commands
 * (do-not-contact, suppress, the kill switch) — verified like the engine verifies them
 * (ADR 0009) and confirmed on `operator.command_results.v1`. Every send it stops is
 * reported `skipped` with the cause.
 */
import type { KeyObject } from "node:crypto";
import { type Db, type Executor, markProcessed } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import {
  commandResult,
  commandServices,
  type LeadConsent,
  type OperatorCommand,
  type OutreachOutcome,
  Topics,
  unverifiedDetail,
  verifyCommand,
} from "@pw/events";
import type { Clock } from "./clock.ts";
import { DISPATCHED, dispatched, outbox } from "./events.ts";
import { cancelScheduled, optOut, setKillSwitch, setSuppressed } from "./store.ts";

/** The inbox consumer name for operator commands. */
const CONSUMER = "dispatch";

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

  /** Dispatch's answer on `operator.command_results.v1`, in the caller's transaction. */
  async function confirm(
    tx: Executor,
    command: OperatorCommand,
    r: { result: "applied" | "refused"; detail: string; reason?: string },
  ) {
    await outbox.enqueue(tx, Topics.operatorCommandResults, [
      commandResult(command, { service: "dispatch", ...r, at: new Date() }),
    ]);
  }

  /** What a command dispatch acts on changes, and the sentence that confirms it. */
  async function apply(
    tx: Executor,
    command: OperatorCommand,
  ): Promise<{ result: string; detail: string }> {
    const at = new Date(command.time);
    const sends = (n: number) => `${n} scheduled send${n === 1 ? "" : "s"} cancelled`;
    switch (command.type) {
      case "operator.kill_switch.v1": {
        const { engaged } = command.data;
        await setKillSwitch(tx, {
          engaged,
          by: command.data.operator,
          reason: command.data.reason,
          at,
        });
        return engaged
          ? { result: "kill_switch_engaged", detail: "kill switch engaged: every send is held" }
          : { result: "kill_switch_released", detail: "kill switch released: held sends go out" };
      }
      case "operator.lead_command.v1": {
        const { action, operator } = command.data;
        const lead = command.subject;
        if (action === "do_not_contact") {
          await optOut(tx, lead, `operator ${operator}: do not contact`, clock.now());
          const n = await stop(tx, lead, `opted out: do-not-contact by ${operator}`);
          return { result: "applied", detail: `lead ${lead} opted out: ${sends(n)}` };
        }
        if (action === "suppress" || action === "unsuppress") {
          await setSuppressed(tx, lead, action === "suppress", clock.now());
          if (action === "unsuppress")
            return { result: "applied", detail: `lead ${lead} unsuppressed` };
          const n = await stop(tx, lead, "suppressed by an operator");
          return { result: "applied", detail: `lead ${lead} suppressed: ${sends(n)}` };
        }
        return { result: "ignored", detail: "" };
      }
      default:
        return { result: "ignored", detail: "" };
    }
  }

  /**
   * `unauthenticated` for refusals (the caller logs them), else what changed. Each command
   * dispatch acts on (commandServices) is confirmed — `applied`, or `refused` with the
   * verification's reason — in the transaction that applies it; a refusal touches nothing
   * else, the inbox included (ADR 0009).
   */
  async function handleCommand(
    command: OperatorCommand,
  ): Promise<{ result: string; reason?: string; detail?: string }> {
    const confirms = commandServices(command).includes("dispatch");
    const verified = verifyCommand(command, { ...o.auth, now: new Date() });
    if (!verified.ok) {
      if (confirms)
        await db.transaction((tx) =>
          confirm(tx, command, {
            result: "refused",
            detail: unverifiedDetail(verified.reason, verified.detail),
            reason: verified.reason,
          }),
        );
      return { result: "unauthenticated", reason: verified.reason, detail: verified.detail };
    }
    if (!confirms) return { result: "ignored" };
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.dispatchInbox, CONSUMER, command.id)))
        return { result: "duplicate" };
      const r = await apply(tx, command);
      if (r.result !== "ignored")
        await confirm(tx, command, { result: "applied", detail: r.detail });
      return { result: r.result };
    });
  }

  return { handleOutcome, handleConsent, handleCommand };
}
