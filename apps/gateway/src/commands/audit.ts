/**
 * The audit log: one row per command, written in the transaction that enqueues the
 * command on the outbox — so a command is never published without its row, nor a row
 * left for a command that was not. Each service the command is meant for later confirms
 * it (`operator.command_result.v1`); every confirmation is kept, and the row's `result`
 * sums them up.
 */
import type { Db, Executor } from "@pw/db";
import type { CommandConfirmation } from "@pw/db/gateway";
import * as schema from "@pw/db/gateway";
import { type CommandResultV1, commandServices, type OperatorCommand, Topics } from "@pw/events";
import type { TypedOutbox } from "@pw/service";
import { and, desc, eq, lt } from "drizzle-orm";
import type { Role } from "../config.ts";

export type CommandResult = "applied" | "refused" | "failed";

/** Audit row + outbox message in one transaction; returns the audit row's id. */
export async function publishCommand(
  db: Db,
  outbox: TypedOutbox,
  command: OperatorCommand,
  issuer: { username: string; role: Role },
): Promise<number> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schema.auditLog)
      .values({
        commandId: command.id,
        commandType: command.type,
        operator: issuer.username,
        role: issuer.role,
        subject: command.subject,
        data: command.data as Record<string, unknown>,
        result: "published",
        at: new Date(command.time),
        services: [...commandServices(command)],
      })
      .returning({ id: schema.auditLog.id });
    await outbox.enqueue(tx, Topics.operatorCommands, [command]);
    return row!.id;
  });
}

/**
 * For what the gateway carries out itself (a DLQ redrive): the command's one result. Only
 * a `published` row changes, so a late or repeated answer cannot overwrite the first.
 * False when no such command is pending. Services' confirmations go through
 * `recordConfirmation`.
 */
export async function recordCommandResult(
  db: Db,
  commandId: string,
  result: CommandResult,
  detail?: string,
  at = new Date(),
): Promise<boolean> {
  const changed = await db
    .update(schema.auditLog)
    .set({ result, detail: detail?.slice(0, 2_000) ?? null, resultAt: at })
    .where(and(eq(schema.auditLog.commandId, commandId), eq(schema.auditLog.result, "published")))
    .returning({ id: schema.auditLog.id });
  return changed.length > 0;
}

type AuditRow = typeof schema.auditLog.$inferSelect;

/**
 * What the answers add up to: `refused` as soon as one service refused, `applied` once
 * every service the command is meant for applied it, else still `published`.
 */
export function overall(
  services: readonly string[],
  results: Record<string, CommandConfirmation>,
): { result: "published" | "applied" | "refused"; detail: string | null } {
  // A row written before `services` existed expects whoever answered.
  const expected = services.length > 0 ? services : Object.keys(results);
  const answered = [...expected, ...Object.keys(results).filter((s) => !expected.includes(s))]
    .filter((s) => results[s])
    .map((s) => ({ service: s, ...results[s]! }));
  const detail =
    answered.length === 0
      ? null
      : expected.length === 1 && answered.length === 1
        ? answered[0]!.detail
        : answered.map((a) => `${a.service}: ${a.detail}`).join("; ");
  if (answered.some((a) => a.result === "refused")) return { result: "refused", detail };
  if (expected.length > 0 && expected.every((s) => results[s]?.result === "applied"))
    return { result: "applied", detail };
  return { result: "published", detail };
}

/**
 * A service's confirmation (`operator.command_result.v1`), inside the read model's
 * projection transaction: kept beside the others, and the row's result and detail summed
 * up again. A service's first answer stands, except that `applied` replaces a `refused` —
 * only a genuine, verified command can be applied, so a refusal of a forged copy carrying
 * its id cannot hide that it was. False when no command with that id was issued here.
 */
export async function recordConfirmation(
  tx: Executor,
  c: CommandResultV1["data"],
): Promise<boolean> {
  const [row] = await tx
    .select()
    .from(schema.auditLog)
    .where(eq(schema.auditLog.commandId, c.commandId))
    .for("update");
  if (!row) return false;
  const previous = row.results[c.service];
  if (previous && (previous.result === "applied" || c.result === "refused")) return false;
  const results: Record<string, CommandConfirmation> = {
    ...row.results,
    [c.service]: {
      result: c.result,
      detail: c.detail,
      ...(c.reason ? { reason: c.reason } : {}),
      at: c.at,
    },
  };
  const sum = overall(row.services, results);
  await tx
    .update(schema.auditLog)
    .set({
      results,
      result: sum.result,
      detail: sum.detail?.slice(0, 2_000) ?? null,
      resultAt:
        sum.result === "published"
          ? null
          : row.result === sum.result
            ? row.resultAt
            : new Date(c.at),
    })
    .where(eq(schema.auditLog.id, row.id));
  return true;
}

/** An audit row as the API shows it: the summary, and each service's answer or its wait. */
export function auditEntry(r: AuditRow) {
  const services = r.services.length > 0 ? r.services : Object.keys(r.results);
  return {
    id: r.id,
    commandId: r.commandId,
    commandType: r.commandType,
    operator: r.operator,
    role: r.role,
    subject: r.subject,
    data: r.data,
    result: r.result,
    detail: r.detail,
    at: r.at.toISOString(),
    resultAt: r.resultAt?.toISOString() ?? null,
    services,
    confirmations: Object.entries(r.results)
      .map(([service, c]) => ({
        service,
        result: c.result,
        detail: c.detail,
        reason: c.reason ?? null,
        at: c.at,
      }))
      .sort((a, b) => a.at.localeCompare(b.at)),
    awaiting: services.filter((s) => !r.results[s]),
  };
}

/** Newest first; `cursor` is the last id of the previous page. */
export async function listAudit(db: Db, page: { limit: number; cursor?: number | undefined }) {
  const rows = await db
    .select()
    .from(schema.auditLog)
    .where(page.cursor === undefined ? undefined : lt(schema.auditLog.id, page.cursor))
    .orderBy(desc(schema.auditLog.id))
    .limit(page.limit);
  return {
    items: rows.map(auditEntry),
    nextCursor: rows.length === page.limit ? String(rows.at(-1)!.id) : null,
  };
}
