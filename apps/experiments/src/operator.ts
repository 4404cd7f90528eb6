/**
 * Operator overrides from `operator.commands.v1`: pause / resume / revive a
 * variant (in one segment or all), the kill switch (no new outreach at all),
 * approval mode (decisions wait for an operator) and approving or rejecting a
 * held decision, lead commands (suppress, unsuppress, do-not-contact,
 * prioritise), and playbook edits (upsert, retire). Every change of a variant's
 * status or of the playbook is announced on `experiment.updates.v1`, and so is a
 * segment it leaves with nothing to send (or able to send again); a new
 * do-not-contact on `lead.consent.v1`.
 *
 * Nothing is applied unless the gateway signed it (ADR 0009): a command that is
 * unsigned, badly signed, signed by an unknown key or too old is refused before it
 * touches anything — its id included, so a forgery cannot use up a genuine command's
 * id. An upsert whose templates name a slot outside the allow-list is refused too.
 *
 * Every command the engine acts on is confirmed on `operator.command_results.v1`, in the
 * transaction that applies it: `applied` with what changed, or `refused` with why
 * (verification, a bad template, nothing to change). Held decisions that an approval,
 * rejection or lead command ends are announced as resolved (approvals.ts).
 */
import type { KeyObject } from "node:crypto";
import { type Db, type Executor, markProcessed } from "@pw/db";
import * as schema from "@pw/db/experiments";
import {
  type CommandRefusal,
  commandServices,
  type OperatorCommand,
  type OutreachRequested,
  OutreachRequestedV1,
  unverifiedDetail,
  verifyCommand,
} from "@pw/events";
import { and, eq, like } from "drizzle-orm";
import { announceResolved, withdrawHeld } from "./approvals.ts";
import { OPERATOR_COMMAND_DEFAULTS } from "./config.ts";
import { approvedSummary } from "./explain.ts";
import { templateProblem } from "./playbook.ts";
import {
  confirmCommand,
  playbookChanged,
  publishOptOut,
  publishRequests,
  statusChanged,
} from "./publish.ts";
import { knownSegments, reconcileSegments } from "./segments.ts";
import { defaultEngineSettings } from "./settings.ts";
import { CONSUMER, consumeCapacity, countExposure, onDoNotContact, utcDay } from "./store.ts";
import { APPROVAL_MODE, KILL_SWITCH, setSwitch } from "./switches.ts";

/** Added to a prioritised lead's queue priority: it goes before every other waiting lead. */
const PRIORITY_BOOST = 1_000;

/** The handler's word for the metrics: `unauthenticated` and `rejected` are refusals. */
export type CommandResult = "applied" | "ignored" | "duplicate" | "rejected" | "unauthenticated";

export type CommandOutcome = {
  result: CommandResult;
  /** Why it was refused: a CommandRefusal, or what is wrong with an upsert. */
  reason?: CommandRefusal | string;
  /** A refusal's particulars, for the log line. */
  detail?: string;
};

/** Whose signatures to accept, and how old a command may be (config `operatorCommands`). */
export type CommandAuthSettings = {
  /** keyId → Ed25519 public key. Empty or absent: every command is refused. */
  keys: ReadonlyMap<string, KeyObject>;
  maxAgeMs?: number;
  maxSkewMs?: number;
  /**
   * The wall clock a command's age is judged on (default: the real one) — not the
   * engine's clock, which a simulation or the demo may run fast.
   */
  clock?: () => Date;
};

/** What a rendered request may hold: a template longer than this can never be sent. */
const REQUEST_LIMITS = {
  subjectTemplate: OutreachRequestedV1.shape.data.shape.subject.maxLength ?? 500,
  bodyTemplate: OutreachRequestedV1.shape.data.shape.body.maxLength ?? 20_000,
};

/** Why an upsert's templates cannot be accepted, naming the field, or undefined. */
function upsertProblem(d: { subjectTemplate: string; bodyTemplate: string }): string | undefined {
  for (const field of ["subjectTemplate", "bodyTemplate"] as const) {
    const problem = templateProblem(d[field], REQUEST_LIMITS[field]);
    if (problem) return `${field}: ${problem}`;
  }
  return undefined;
}

export function operatorBuilder(o: {
  db: Db;
  now?: () => Date;
  /** Approvals spend today's capacity like any send (an operator's approval may exceed it). */
  capacityPerDay?: number;
  /** Default: no keys — every command is refused (least privilege). */
  auth?: CommandAuthSettings;
}) {
  const now = o.now ?? (() => new Date());
  const perDay = o.capacityPerDay ?? defaultEngineSettings().capacity.perDay;
  const policy = {
    keys: o.auth?.keys ?? new Map<string, KeyObject>(),
    maxAgeMs: o.auth?.maxAgeMs ?? OPERATOR_COMMAND_DEFAULTS.maxAgeMs,
    maxSkewMs: o.auth?.maxSkewMs ?? OPERATOR_COMMAND_DEFAULTS.maxSkewMs,
  };
  const clock = o.auth?.clock ?? (() => new Date());

  /** What a command did, in a sentence for the operator; `ignored` changed nothing. */
  type Applied = {
    result: "applied" | "ignored" | "rejected";
    detail: string;
    /** Why nothing changed (`ignored`), as a code for the confirmation. */
    code?: string;
  };
  const applied = (detail: string): Applied => ({ result: "applied", detail });
  const ignored = (code: string, detail: string): Applied => ({ result: "ignored", code, detail });

  async function approval(
    tx: Executor,
    data: { requestId: string; decision: "approve" | "reject"; operator: string; reason?: string },
  ): Promise<Applied> {
    const [held] = await tx
      .select()
      .from(schema.decisions)
      .where(
        and(
          eq(schema.decisions.requestId, data.requestId),
          eq(schema.decisions.state, "pending_approval"),
        ),
      )
      .for("update");
    if (!held?.pendingRequest)
      return ignored(
        "not_pending",
        `request ${data.requestId} is not waiting for approval (unknown, or already decided)`,
      );
    const what = `request ${held.requestId} for lead ${held.leadId} (${held.variantId} in ${held.segment})`;
    const reject = async (
      resolution: "rejected" | "withdrawn",
      by: string,
      reason: string,
      note: string,
    ) => {
      await tx
        .update(schema.decisions)
        .set({ state: "rejected", pendingRequest: null })
        .where(eq(schema.decisions.requestId, held.requestId));
      await tx
        .update(schema.queue)
        .set({ status: "rejected", resolvedAt: now(), note })
        .where(eq(schema.queue.leadId, held.leadId));
      await announceResolved(tx, {
        requestId: held.requestId,
        leadId: held.leadId,
        segment: held.segment,
        variantId: held.variantId,
        resolution,
        by,
        reason,
        at: now(),
      });
    };
    if (data.decision === "reject") {
      const note = `rejected by ${data.operator}${data.reason ? `: ${data.reason}` : ""}`;
      await reject("rejected", data.operator, data.reason ?? `rejected by ${data.operator}`, note);
      return applied(`${what} rejected: nothing is sent`);
    }
    // The lead may have opted out while the decision waited.
    if (await onDoNotContact(tx, held.leadId)) {
      await reject(
        "withdrawn",
        "engine",
        "the lead is on the do-not-contact list",
        "on the do-not-contact list when approved",
      );
      return ignored(
        "do_not_contact",
        `${what} not sent: the lead is on the do-not-contact list (withdrawn)`,
      );
    }
    const at = now();
    await tx
      .update(schema.decisions)
      .set({ state: "requested", requestedAt: at, pendingRequest: null })
      .where(eq(schema.decisions.requestId, held.requestId));
    await tx
      .update(schema.queue)
      .set({ status: "requested", resolvedAt: at, note: `approved by ${data.operator}` })
      .where(eq(schema.queue.leadId, held.leadId));
    await consumeCapacity(tx, utcDay(at), perDay, true);
    await countExposure(tx, held.segment, held.variantId, at);
    const request = held.pendingRequest;
    const approved: OutreachRequested = {
      ...request,
      data: {
        ...request.data,
        requestedAt: at.toISOString(),
        explanation: {
          ...request.data.explanation,
          summary: approvedSummary(request.data.explanation.summary, data.operator),
        },
      },
    };
    // The held envelope itself (same id): a redelivered approval cannot publish twice.
    await publishRequests(tx, [approved]);
    await announceResolved(tx, {
      requestId: held.requestId,
      leadId: held.leadId,
      segment: held.segment,
      variantId: held.variantId,
      resolution: "approved",
      by: data.operator,
      reason: data.reason ?? `approved by ${data.operator}`,
      at,
    });
    return applied(`${what} approved: sent to dispatch`);
  }

  async function apply(tx: Executor, command: OperatorCommand): Promise<Applied> {
    switch (command.type) {
      case "operator.kill_switch.v1":
      case "operator.approval_mode.v1": {
        const kill = command.type === "operator.kill_switch.v1";
        const enabled = kill ? command.data.engaged : command.data.enabled;
        await setSwitch(tx, kill ? KILL_SWITCH : APPROVAL_MODE, {
          enabled,
          by: command.data.operator,
          reason: command.data.reason ?? null,
          at: now(),
        });
        return applied(
          kill
            ? enabled
              ? "kill switch engaged: no new outreach is decided; queued leads wait"
              : "kill switch released: queued leads are decided again"
            : enabled
              ? "approval mode on: new decisions wait for an operator"
              : "approval mode off: new decisions go out without approval",
        );
      }
      case "operator.approval_decision.v1":
        return approval(tx, command.data);
      case "operator.variant_command.v1": {
        const { action, variantId, segment, operator, reason } = command.data;
        const to = action === "pause" ? "paused" : "active";
        // resume undoes a pause; revive undoes a suppression — neither touches the other.
        const from = action === "pause" ? "active" : action === "resume" ? "paused" : "suppressed";
        const where = segment
          ? and(
              eq(schema.arms.variantId, variantId),
              eq(schema.arms.segment, segment),
              eq(schema.arms.status, from),
            )
          : and(eq(schema.arms.variantId, variantId), eq(schema.arms.status, from));
        const changed = await tx
          .update(schema.arms)
          .set({
            status: to,
            statusReason: `${action} by ${operator}${reason ? `: ${reason}` : ""}`,
            updatedAt: now(),
          })
          .where(where)
          .returning({ segment: schema.arms.segment });
        for (const c of changed) {
          await statusChanged(tx, {
            segment: c.segment,
            variantId,
            from,
            to,
            reason: reason ?? `${action} by ${operator}`,
            by: "operator",
            at: now(),
          });
        }
        const done = { pause: "paused", resume: "resumed", revive: "revived" }[action];
        // A pause may leave a segment nothing to send; a resume or revival may end that.
        await reconcileSegments(
          tx,
          changed.map((c) => c.segment),
          now(),
          `${variantId} ${done} by ${operator}`,
        );
        if (changed.length === 0)
          return ignored(
            "no_change",
            `variant ${variantId} is not ${from} in ${segment ?? "any segment"}: nothing to ${action}`,
          );
        const segments = changed.map((c) => c.segment).sort();
        return applied(`variant ${variantId} ${done} in ${segments.join(", ")}`);
      }
      case "operator.lead_command.v1": {
        const leadId = command.subject;
        const { action, operator } = command.data;
        if (action === "prioritise") {
          const boosted = await tx
            .update(schema.queue)
            .set({ boost: PRIORITY_BOOST, note: `prioritised by ${operator}` })
            .where(and(eq(schema.queue.leadId, leadId), eq(schema.queue.status, "queued")))
            .returning({ leadId: schema.queue.leadId });
          return boosted.length > 0
            ? applied(`lead ${leadId} moved to the front of the queue`)
            : ignored(
                "no_change",
                `lead ${leadId} is not waiting in the queue: nothing to prioritise`,
              );
        }
        if (action === "unsuppress") {
          // Lifts an operator's suppression only — never an opt-out or a do-not-contact.
          const lifted = await tx
            .delete(schema.doNotContact)
            .where(
              and(
                eq(schema.doNotContact.leadId, leadId),
                like(schema.doNotContact.reason, "suppressed by %"),
              ),
            )
            .returning({ leadId: schema.doNotContact.leadId });
          return lifted.length > 0
            ? applied(`lead ${leadId} unsuppressed: it may be contacted again`)
            : ignored(
                "no_change",
                `lead ${leadId} is not suppressed by an operator (an opt-out or do-not-contact stays)`,
              );
        }
        const reason = `${action === "suppress" ? "suppressed" : "do_not_contact"} by ${operator}`;
        const written = await tx
          .insert(schema.doNotContact)
          .values({ leadId, reason, at: now() })
          .onConflictDoUpdate({
            target: schema.doNotContact.leadId,
            set: { reason, at: now() },
            // A suppression never softens an existing opt-out or do-not-contact.
            setWhere: like(schema.doNotContact.reason, "suppressed by %"),
          })
          .returning({ leadId: schema.doNotContact.leadId });
        // A do-not-contact is an opt-out every service must honour (a suppression is the
        // engine's own, and reversible): announced when the lead was not on the list, or
        // only suppressed — not again for a lead already opted out.
        if (action === "do_not_contact" && written.length > 0)
          await publishOptOut(tx, leadId, {
            source: "operator",
            reason: command.data.reason ?? "operator: do not contact",
            at: now(),
            causeId: command.id,
          });
        // Held decisions for the lead are withdrawn.
        const withdrawn = await withdrawHeld(tx, leadId, {
          by: operator,
          reason:
            action === "suppress"
              ? "the lead was suppressed"
              : "the lead is on the do-not-contact list",
          at: now(),
        });
        const also = withdrawn > 0 ? `; ${withdrawn} held decision(s) withdrawn` : "";
        if (written.length === 0)
          return applied(`lead ${leadId} was already on the do-not-contact list${also}`);
        return applied(
          action === "suppress"
            ? `lead ${leadId} suppressed: no outreach until unsuppressed${also}`
            : `lead ${leadId} put on the do-not-contact list${also}`,
        );
      }
      case "operator.playbook_upsert.v1": {
        const d = command.data;
        const problem = upsertProblem(d);
        if (problem) return { result: "rejected", code: "invalid_template", detail: problem };
        const [existing] = await tx
          .select({ variantId: schema.playbook.variantId })
          .from(schema.playbook)
          .where(eq(schema.playbook.variantId, d.variantId));
        const values = {
          variantId: d.variantId,
          channel: d.channel,
          angle: d.angle,
          subjectTemplate: d.subjectTemplate,
          bodyTemplate: d.bodyTemplate,
          cadenceStep: d.cadenceStep,
          delayDays: d.delayDays,
          parentVariantId: d.parentVariantId ?? null,
          retired: false,
          updatedAt: now(),
        };
        await tx
          .insert(schema.playbook)
          .values(values)
          .onConflictDoUpdate({ target: schema.playbook.variantId, set: values });
        await playbookChanged(
          tx,
          {
            variantId: d.variantId,
            channel: d.channel,
            change: existing ? "updated" : "created",
          },
          d.operator,
          now(),
        );
        // A new (or un-retired) variant may give a blocked segment something to send.
        await reconcileSegments(
          tx,
          await knownSegments(tx),
          now(),
          `${d.variantId} ${existing ? "updated" : "added"} by ${d.operator}`,
        );
        return applied(
          `variant ${d.variantId} ${existing ? "updated" : "created"} (${d.channel}, step ${d.cadenceStep})`,
        );
      }
      case "operator.playbook_retire.v1": {
        const retired = await tx
          .update(schema.playbook)
          .set({ retired: true, updatedAt: now() })
          .where(
            and(
              eq(schema.playbook.variantId, command.data.variantId),
              eq(schema.playbook.retired, false),
            ),
          )
          .returning({ channel: schema.playbook.channel });
        if (retired.length === 0)
          return ignored(
            "no_change",
            `variant ${command.data.variantId} is not in the playbook, or already retired`,
          );
        await playbookChanged(
          tx,
          {
            variantId: command.data.variantId,
            channel: retired[0]!.channel,
            change: "retired",
          },
          command.data.operator,
          now(),
        );
        // Retiring the last variant a segment could send leaves it nothing to send.
        await reconcileSegments(tx, await knownSegments(tx), now());
        return applied(`variant ${command.data.variantId} retired: no new decisions choose it`);
      }
      default:
        return ignored("not_for_this_service", `${command.type} is not the engine's`);
    }
  }

  return {
    /**
     * Verifies the command's signature and age, then applies it once (inbox) in one
     * transaction. The outcome's `result` is the word for the metrics; a refusal says why.
     */
    async handleCommand(command: OperatorCommand): Promise<CommandOutcome> {
      // Confirmed only when the engine acts on this kind of command (commandServices).
      const confirms = commandServices(command).includes("experiments");
      const verified = verifyCommand(command, { ...policy, now: clock() });
      if (!verified.ok) {
        // The refusal is announced, but the inbox is not touched (see the header).
        if (confirms)
          await o.db.transaction((tx) =>
            confirmCommand(
              tx,
              command,
              {
                result: "refused",
                detail: unverifiedDetail(verified.reason, verified.detail),
                reason: verified.reason,
              },
              clock(),
            ),
          );
        return { result: "unauthenticated", reason: verified.reason, detail: verified.detail };
      }
      return o.db.transaction(async (tx) => {
        if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, command.id)))
          return { result: "duplicate" };
        const outcome = await apply(tx, command);
        if (confirms)
          await confirmCommand(
            tx,
            command,
            outcome.result === "applied"
              ? { result: "applied", detail: outcome.detail }
              : { result: "refused", detail: outcome.detail, reason: outcome.code },
            clock(),
          );
        // A rejected upsert's reason is what is wrong with it (the log line says it).
        if (outcome.result === "rejected") return { result: "rejected", reason: outcome.detail };
        return {
          result: outcome.result,
          ...(outcome.code ? { reason: outcome.code } : {}),
          detail: outcome.detail,
        };
      });
    },
  };
}
