/**
 * Operator overrides from `operator.commands.v1`: pause / resume / revive a
 * variant (in one segment or all), the kill switch (no new outreach at all),
 * approval mode (decisions wait for an operator) and approving or rejecting a
 * held decision, lead commands (suppress, unsuppress, do-not-contact,
 * prioritise), and playbook edits (upsert, retire). Every change of a variant's
 * status or of the playbook is announced on `experiment.updates.v1`.
 */
import { type Db, type Executor, markProcessed } from "@pw/db";
import * as schema from "@pw/db/experiments";
import type { OperatorCommand, OutreachRequested } from "@pw/events";
import { and, eq, like } from "drizzle-orm";
import { approvedSummary } from "./explain.ts";
import { playbookChanged, publishRequests, statusChanged } from "./publish.ts";
import { defaultEngineSettings } from "./settings.ts";
import { CONSUMER, consumeCapacity, countExposure, onDoNotContact, utcDay } from "./store.ts";
import { APPROVAL_MODE, KILL_SWITCH, setSwitch } from "./switches.ts";

/** Added to a prioritised lead's queue priority: it goes before every other waiting lead. */
const PRIORITY_BOOST = 1_000;

export type CommandResult = "applied" | "ignored" | "duplicate";

export function operatorBuilder(o: {
  db: Db;
  now?: () => Date;
  /** Approvals spend today's capacity like any send (an operator's approval may exceed it). */
  capacityPerDay?: number;
}) {
  const now = o.now ?? (() => new Date());
  const perDay = o.capacityPerDay ?? defaultEngineSettings().capacity.perDay;

  async function approval(
    tx: Executor,
    data: { requestId: string; decision: "approve" | "reject"; operator: string; reason?: string },
  ): Promise<CommandResult> {
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
    if (!held?.pendingRequest) return "ignored";
    const reject = async (note: string) => {
      await tx
        .update(schema.decisions)
        .set({ state: "rejected", pendingRequest: null })
        .where(eq(schema.decisions.requestId, held.requestId));
      await tx
        .update(schema.queue)
        .set({ status: "rejected", resolvedAt: now(), note })
        .where(eq(schema.queue.leadId, held.leadId));
      return "applied" as const;
    };
    if (data.decision === "reject")
      return reject(`rejected by ${data.operator}${data.reason ? `: ${data.reason}` : ""}`);
    // The lead may have opted out while the decision waited.
    if (await onDoNotContact(tx, held.leadId))
      return reject("on the do-not-contact list when approved");
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
    return "applied";
  }

  return {
    async handleCommand(command: OperatorCommand): Promise<CommandResult> {
      return o.db.transaction(async (tx) => {
        if (!(await markProcessed(tx, schema.experimentsInbox, CONSUMER, command.id)))
          return "duplicate";
        switch (command.type) {
          case "operator.kill_switch.v1":
          case "operator.approval_mode.v1": {
            const key = command.type === "operator.kill_switch.v1" ? KILL_SWITCH : APPROVAL_MODE;
            const enabled =
              command.type === "operator.kill_switch.v1"
                ? command.data.engaged
                : command.data.enabled;
            await setSwitch(tx, key, {
              enabled,
              by: command.data.operator,
              reason: command.data.reason ?? null,
              at: now(),
            });
            return "applied";
          }
          case "operator.approval_decision.v1":
            return approval(tx, command.data);
          case "operator.variant_command.v1": {
            const { action, variantId, segment, operator, reason } = command.data;
            const to = action === "pause" ? "paused" : "active";
            // resume undoes a pause; revive undoes a suppression — neither touches the other.
            const from =
              action === "pause" ? "active" : action === "resume" ? "paused" : "suppressed";
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
            return changed.length > 0 ? "applied" : "ignored";
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
              return boosted.length > 0 ? "applied" : "ignored";
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
              return lifted.length > 0 ? "applied" : "ignored";
            }
            const reason = `${action === "suppress" ? "suppressed" : "do_not_contact"} by ${operator}`;
            await tx
              .insert(schema.doNotContact)
              .values({ leadId, reason, at: now() })
              .onConflictDoUpdate({
                target: schema.doNotContact.leadId,
                set: { reason, at: now() },
                // A suppression never softens an existing opt-out or do-not-contact.
                setWhere: like(schema.doNotContact.reason, "suppressed by %"),
              });
            // Held decisions for the lead are withdrawn.
            await tx
              .update(schema.decisions)
              .set({ state: "rejected", pendingRequest: null })
              .where(
                and(
                  eq(schema.decisions.leadId, leadId),
                  eq(schema.decisions.state, "pending_approval"),
                ),
              );
            return "applied";
          }
          case "operator.playbook_upsert.v1": {
            const d = command.data;
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
            return "applied";
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
            if (retired.length === 0) return "ignored";
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
            return "applied";
          }
          default:
            return "ignored";
        }
      });
    },
  };
}
