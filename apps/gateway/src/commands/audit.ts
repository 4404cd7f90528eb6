/**
 * The audit log: one row per command, written in the transaction that enqueues the
 * command on the outbox — so a command is never published without its row, nor a row
 * left for a command that was not. The service's confirmation later sets the result.
 */
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { type OperatorCommand, Topics } from "@pw/events";
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
      })
      .returning({ id: schema.auditLog.id });
    await outbox.enqueue(tx, Topics.operatorCommands, [command]);
    return row!.id;
  });
}

/**
 * For the services' confirmations (not consumed yet — see the README): what the service
 * made of the command. Only a `published` row changes, so a late or repeated
 * confirmation cannot overwrite the first. False when no such command is pending.
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

/** Newest first; `cursor` is the last id of the previous page. */
export async function listAudit(db: Db, page: { limit: number; cursor?: number | undefined }) {
  const rows = await db
    .select()
    .from(schema.auditLog)
    .where(page.cursor === undefined ? undefined : lt(schema.auditLog.id, page.cursor))
    .orderBy(desc(schema.auditLog.id))
    .limit(page.limit);
  return {
    items: rows.map((r) => ({
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
    })),
    nextCursor: rows.length === page.limit ? String(rows.at(-1)!.id) : null,
  };
}
