/** Operator accounts: bootstrapped from configuration, managed by `pnpm gateway:operator`. */
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { asc, eq, sql } from "drizzle-orm";
import type { BootstrapOperator, Role } from "../config.ts";
import { endSessionsOf } from "./sessions.ts";

export type Operator = { username: string; role: Role; passwordHash: string; disabled: boolean };

export async function findOperator(db: Db, username: string): Promise<Operator | undefined> {
  const [row] = await db
    .select({
      username: schema.operators.username,
      role: schema.operators.role,
      passwordHash: schema.operators.passwordHash,
      disabled: schema.operators.disabled,
    })
    .from(schema.operators)
    .where(eq(schema.operators.username, username));
  return row;
}

/**
 * Creates the account or sets its password and role. A role or password change ends the
 * account's sessions (a demoted operator keeps no admin session). `disabled` is left as
 * it is: an account disabled with the CLI stays disabled across restarts even if the
 * configuration still names it.
 */
export async function upsertOperator(
  db: Db,
  o: BootstrapOperator,
): Promise<"created" | "updated" | "unchanged"> {
  const before = await findOperator(db, o.username);
  if (before && before.role === o.role && before.passwordHash === o.passwordHash)
    return "unchanged";
  await db
    .insert(schema.operators)
    .values({ username: o.username, role: o.role, passwordHash: o.passwordHash })
    .onConflictDoUpdate({
      target: schema.operators.username,
      set: { role: o.role, passwordHash: o.passwordHash, updatedAt: sql`now()` },
    });
  if (before) await endSessionsOf(db, o.username);
  return before ? "updated" : "created";
}

/** Disables the account and ends its sessions; false when there is no such account. */
export async function disableOperator(db: Db, username: string): Promise<boolean> {
  const changed = await db
    .update(schema.operators)
    .set({ disabled: true, updatedAt: sql`now()` })
    .where(eq(schema.operators.username, username))
    .returning({ username: schema.operators.username });
  await endSessionsOf(db, username);
  return changed.length > 0;
}

export async function listOperators(db: Db) {
  return db
    .select({
      username: schema.operators.username,
      role: schema.operators.role,
      disabled: schema.operators.disabled,
      createdAt: schema.operators.createdAt,
    })
    .from(schema.operators)
    .orderBy(asc(schema.operators.username));
}
