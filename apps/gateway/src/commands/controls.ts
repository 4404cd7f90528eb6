/**
 * The global switches as the gateway knows them (`GET /api/controls`): the kill switch and
 * approval mode, each as set by the latest command a service confirmed it applied — with
 * who set it, when and why, which services confirmed it and which have yet to — and a
 * newer command still waiting for its first confirmation, if there is one. Derived from
 * the audit log (the commands issued here and the confirmations seen), never from another
 * service's tables.
 */
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { and, desc, eq, gt, sql } from "drizzle-orm";
import { auditEntry } from "./audit.ts";

const SWITCHES = {
  killSwitch: { type: "operator.kill_switch.v1", field: "engaged" },
  approvalMode: { type: "operator.approval_mode.v1", field: "enabled" },
} as const;

type Entry = ReturnType<typeof auditEntry>;

const appliedBySomeone = sql`exists (select 1 from jsonb_each(${schema.auditLog.results}) r where r.value->>'result' = 'applied')`;

async function switchState(db: Db, type: string, field: "engaged" | "enabled") {
  const [current] = await db
    .select()
    .from(schema.auditLog)
    .where(and(eq(schema.auditLog.commandType, type), appliedBySomeone))
    .orderBy(desc(schema.auditLog.at), desc(schema.auditLog.id))
    .limit(1);
  const [pending] = await db
    .select()
    .from(schema.auditLog)
    .where(
      and(
        eq(schema.auditLog.commandType, type),
        eq(schema.auditLog.result, "published"),
        sql`not ${appliedBySomeone}`,
        current ? gt(schema.auditLog.at, current.at) : undefined,
      ),
    )
    .orderBy(desc(schema.auditLog.at), desc(schema.auditLog.id))
    .limit(1);
  const entry: Entry | undefined = current && auditEntry(current);
  const on = (e: Entry) => Boolean((e.data as Record<string, unknown>)[field]);
  const pendingEntry = pending && auditEntry(pending);
  return {
    [field]: entry ? on(entry) : false,
    by: entry?.operator ?? null,
    at: entry?.at ?? null,
    reason: ((entry?.data as { reason?: string } | undefined)?.reason ?? null) as string | null,
    commandId: entry?.commandId ?? null,
    /** Services that confirmed applying it, and those it is meant for that have not yet. */
    confirmedBy: entry
      ? entry.confirmations.filter((c) => c.result === "applied").map((c) => c.service)
      : [],
    awaiting: entry?.awaiting ?? [],
    refusedBy: entry
      ? entry.confirmations.filter((c) => c.result === "refused").map((c) => c.service)
      : [],
    pending: pendingEntry
      ? {
          [field]: on(pendingEntry),
          by: pendingEntry.operator,
          at: pendingEntry.at,
          commandId: pendingEntry.commandId,
        }
      : null,
  };
}

export async function controlsState(db: Db) {
  const [waiting] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(schema.approvalView)
    .where(
      and(
        sql`${schema.approvalView.resolution} is null`,
        sql`${schema.approvalView.request} is not null`,
      ),
    );
  return {
    killSwitch: await switchState(db, SWITCHES.killSwitch.type, SWITCHES.killSwitch.field),
    approvalMode: await switchState(db, SWITCHES.approvalMode.type, SWITCHES.approvalMode.field),
    pendingApprovals: Number(waiting?.n ?? 0),
  };
}
