/**
 * Operator overrides from `operator.commands.v1`: pause / resume / revive a
 * variant (in one segment or all), the kill switch (no new outreach at all) and
 * approval mode (stored; decisions waiting for approval are not built yet).
 * Every change of a variant's status is announced on `experiment.updates.v1`.
 */
import { type Db, type Executor, enqueue, markProcessed, schema } from "@pw/db";
import { envelope, type OperatorCommand, Topics } from "@pw/events";
import { and, eq } from "drizzle-orm";
import { CONSUMER } from "./engine.ts";

const SOURCE = "pw://experiments";
export const KILL_SWITCH = "kill_switch";
export const APPROVAL_MODE = "approval_mode";

export async function settingEnabled(db: Executor, key: string): Promise<boolean> {
  const [row] = await db.select().from(schema.settings).where(eq(schema.settings.key, key));
  return row?.enabled ?? false;
}

export async function statusChanged(
  tx: Executor,
  change: {
    segment: string;
    variantId: string;
    from: string;
    to: string;
    reason: string;
    by: "engine" | "operator";
    at: Date;
  },
) {
  const event = envelope({
    type: "experiment.variant_status_changed.v1",
    source: SOURCE,
    subject: `segment:${change.segment}`,
    data: {
      ...change,
      from: change.from as "active",
      to: change.to as "active",
      at: change.at.toISOString(),
    },
  });
  await enqueue(tx, schema.experimentsOutbox, [
    { eventId: event.id, topic: Topics.experimentUpdates, key: event.subject, payload: event },
  ]);
}

export function operatorBuilder(o: { db: Db; now?: () => Date }) {
  const now = o.now ?? (() => new Date());
  return {
    async handleCommand(command: OperatorCommand): Promise<"applied" | "ignored" | "duplicate"> {
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
            const values = {
              key,
              enabled,
              by: command.data.operator,
              reason: command.data.reason ?? null,
              updatedAt: now(),
            };
            await tx
              .insert(schema.settings)
              .values(values)
              .onConflictDoUpdate({ target: schema.settings.key, set: values });
            return "applied";
          }
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
          default:
            return "ignored";
        }
      });
    },
  };
}
