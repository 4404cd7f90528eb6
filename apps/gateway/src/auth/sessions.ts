/**
 * Sessions: the cookie carries 32 random bytes (base64url); the table keeps only their
 * SHA-256, so a leaked table or backup cannot be replayed as cookies. Each session has its
 * own CSRF token (sent back in `x-csrf-token` on every non-GET request).
 */
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "@pw/db";
import * as schema from "@pw/db/gateway";
import { and, eq, gt, lte } from "drizzle-orm";
import type { Role } from "../config.ts";

export const SESSION_COOKIE = "pw_session";

export type Session = { username: string; role: Role; csrfToken: string; expiresAt: Date };

const idHashOf = (id: string) => createHash("sha256").update(id).digest("hex");

export async function createSession(
  db: Db,
  user: { username: string; role: Role },
  ttlMs: number,
  now = new Date(),
): Promise<{ id: string; session: Session }> {
  const id = randomBytes(32).toString("base64url");
  const session: Session = {
    username: user.username,
    role: user.role,
    csrfToken: randomBytes(32).toString("base64url"),
    expiresAt: new Date(now.getTime() + ttlMs),
  };
  await db.insert(schema.sessions).values({ idHash: idHashOf(id), createdAt: now, ...session });
  return { id, session };
}

/** The live session of a cookie value: not expired, and its operator not disabled. */
export async function findSession(
  db: Db,
  id: string,
  now = new Date(),
): Promise<Session | undefined> {
  if (!id || id.length > 100) return undefined;
  const [row] = await db
    .select({
      username: schema.sessions.username,
      role: schema.sessions.role,
      csrfToken: schema.sessions.csrfToken,
      expiresAt: schema.sessions.expiresAt,
    })
    .from(schema.sessions)
    .innerJoin(schema.operators, eq(schema.operators.username, schema.sessions.username))
    .where(
      and(
        eq(schema.sessions.idHash, idHashOf(id)),
        gt(schema.sessions.expiresAt, now),
        eq(schema.operators.disabled, false),
      ),
    );
  return row;
}

export async function endSession(db: Db, id: string): Promise<void> {
  await db.delete(schema.sessions).where(eq(schema.sessions.idHash, idHashOf(id)));
}

/** Every session of one operator (disabled, or its role changed). */
export async function endSessionsOf(db: Db, username: string): Promise<number> {
  const gone = await db
    .delete(schema.sessions)
    .where(eq(schema.sessions.username, username))
    .returning({ idHash: schema.sessions.idHash });
  return gone.length;
}

export async function pruneSessions(db: Db, now = new Date()): Promise<number> {
  const gone = await db
    .delete(schema.sessions)
    .where(lte(schema.sessions.expiresAt, now))
    .returning({ idHash: schema.sessions.idHash });
  return gone.length;
}
