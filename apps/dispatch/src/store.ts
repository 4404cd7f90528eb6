/**
 * Dispatch's tables as the sender uses them: requests in (one row per step, idempotent),
 * due sends claimed with `FOR UPDATE SKIP LOCKED` under a lease, per-lead touch slots and
 * cap slots reserved atomically (and given back when a send does not go out), verdicts
 * recorded in bulk with their events in the same transaction.
 */
import { type Executor, queryRows } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import { and, eq, inArray, isNotNull, lte, or, sql } from "drizzle-orm";

export type SendRow = typeof schema.sends.$inferSelect;
export type NewSend = typeof schema.sends.$inferInsert;
export type LeadRow = typeof schema.leadContact.$inferSelect;

const { sends, leadContact: leads, capCounters, controls } = schema;

/** Inserts request steps (a redelivered request changes nothing) and the leads they name. */
export async function insertSends(tx: Executor, rows: NewSend[], at: Date): Promise<number> {
  if (rows.length === 0) return 0;
  const ids = [...new Set(rows.map((r) => r.leadId))];
  await tx
    .insert(leads)
    .values(ids.map((leadId) => ({ leadId, updatedAt: at })))
    .onConflictDoNothing();
  const inserted = await tx
    .insert(sends)
    .values(rows)
    .onConflictDoNothing()
    .returning({ key: sends.key });
  return inserted.length;
}

/**
 * Claims up to `limit` sends that are due (or whose holder's lease ran out: it crashed
 * or stalled) for this instance until `leaseUntil`; another instance skips the locked
 * rows, so no send is claimed twice at once.
 */
export async function claimDue(
  db: Executor,
  now: Date,
  limit: number,
  leaseUntil: Date,
): Promise<SendRow[]> {
  const due = db
    .select({ key: sends.key })
    .from(sends)
    .where(
      or(
        and(eq(sends.state, "scheduled"), lte(sends.dueAt, now)),
        and(eq(sends.state, "sending"), isNotNull(sends.leaseUntil), lte(sends.leaseUntil, now)),
      ),
    )
    .orderBy(sql`${sends.priority} desc`, sends.dueAt)
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(sends)
    .set({
      state: "sending",
      leaseUntil,
      attempts: sql`${sends.attempts} + 1`,
      updatedAt: now,
    })
    .where(inArray(sends.key, due))
    .returning();
}

/** Due sends held back while the kill switch is on, each reported once. */
export async function markHeld(db: Executor, now: Date, reason: string, limit: number) {
  const due = db
    .select({ key: sends.key })
    .from(sends)
    .where(
      and(
        eq(sends.state, "scheduled"),
        lte(sends.dueAt, now),
        sql`${sends.reason} is distinct from ${reason}`,
      ),
    )
    .limit(limit)
    .for("update", { skipLocked: true });
  return db
    .update(sends)
    .set({ reason, updatedAt: now })
    .where(inArray(sends.key, due))
    .returning();
}

export async function leadsById(db: Executor, ids: string[]): Promise<Map<string, LeadRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(leads).where(inArray(leads.leadId, ids));
  return new Map(rows.map((r) => [r.leadId, r]));
}

export async function killSwitch(
  db: Executor,
): Promise<typeof schema.controls.$inferSelect | undefined> {
  const [row] = await db.select().from(controls).where(eq(controls.name, "kill_switch"));
  return row;
}

type Touch = { leadId: string; key: string; expected: Date | null; nurture: boolean };

/**
 * Takes each lead's touch slot at `now` for a send — only if nobody touched the lead since
 * we read it (`expected`) or the slot is that send's own (a retry after a crash), and the
 * lead is neither opted out nor suppressed. Returns the leads granted.
 */
export async function reserveTouches(
  db: Executor,
  touches: Touch[],
  now: Date,
): Promise<Set<string>> {
  if (touches.length === 0) return new Set();
  const json = JSON.stringify(
    touches.map((t) => ({
      lead_id: t.leadId,
      key: t.key,
      expected: t.expected?.toISOString() ?? null,
      nurture: t.nurture,
    })),
  );
  const rows = await queryRows<{ lead_id: string }>(
    db,
    sql`update dispatch.leads l
        set last_touch_at = ${now.toISOString()}::timestamptz,
            last_touch_key = v.key,
            last_nurture_at = case when v.nurture then ${now.toISOString()}::timestamptz else l.last_nurture_at end,
            updated_at = ${now.toISOString()}::timestamptz
        from jsonb_to_recordset(${json}::jsonb)
          as v(lead_id text, key text, expected timestamptz, nurture boolean)
        where l.lead_id = v.lead_id
          and (l.last_touch_at is not distinct from v.expected or l.last_touch_key = v.key)
          and l.opted_out_at is null and not l.suppressed
        returning l.lead_id`,
  );
  return new Set(rows.map((r) => r.lead_id));
}

/** Gives touch slots back (the send did not go out): only where nobody touched since. */
export async function releaseTouches(
  db: Executor,
  released: {
    leadId: string;
    key: string;
    lastTouchAt: Date | null;
    lastTouchKey: string | null;
    lastNurtureAt: Date | null;
  }[],
  now: Date,
): Promise<void> {
  if (released.length === 0) return;
  const json = JSON.stringify(
    released.map((r) => ({
      lead_id: r.leadId,
      key: r.key,
      touch: r.lastTouchAt?.toISOString() ?? null,
      touch_key: r.lastTouchKey,
      nurture: r.lastNurtureAt?.toISOString() ?? null,
    })),
  );
  await db.execute(
    sql`update dispatch.leads l
        set last_touch_at = v.touch, last_touch_key = v.touch_key, last_nurture_at = v.nurture
        from jsonb_to_recordset(${json}::jsonb)
          as v(lead_id text, key text, touch timestamptz, touch_key text, nurture timestamptz)
        where l.lead_id = v.lead_id and l.last_touch_key = v.key
          and l.last_touch_at = ${now.toISOString()}::timestamptz`,
  );
}

export type CapSlot = {
  scope: string;
  bucket: string;
  cap: number;
  wanted: number;
  expiresAt: Date;
};

/**
 * Reserves up to `wanted` slots of each cap (`scope` in `bucket`, at most `cap` in all) in
 * one statement and says how many each got: the counter rows are locked in a fixed order
 * while their counts move, so instances reserving together never overshoot or deadlock.
 */
export async function reserveCaps(db: Executor, slots: CapSlot[]): Promise<Map<string, number>> {
  const granted = new Map<string, number>();
  const wanted = slots.filter((s) => s.wanted > 0);
  if (wanted.length === 0) return granted;
  const json = JSON.stringify(
    wanted.map((s) => ({
      scope: s.scope,
      bucket: s.bucket,
      cap: s.cap,
      wanted: s.wanted,
      expires_at: s.expiresAt.toISOString(),
    })),
  );
  await db.execute(
    sql`insert into dispatch.cap_counters (scope, bucket, used, expires_at)
        select v.scope, v.bucket, 0, v.expires_at
        from jsonb_to_recordset(${json}::jsonb) as v(scope text, bucket text, expires_at timestamptz)
        order by 1, 2
        on conflict do nothing`,
  );
  const rows = await queryRows<{ scope: string; bucket: string; used: number; before: number }>(
    db,
    sql`with want as (
          select * from jsonb_to_recordset(${json}::jsonb)
            as v(scope text, bucket text, cap int, wanted int)
        ), locked as (
          select c.scope, c.bucket, c.used from dispatch.cap_counters c
          join want w on w.scope = c.scope and w.bucket = c.bucket
          order by c.scope, c.bucket
          for update of c
        )
        update dispatch.cap_counters c
        set used = least(w.cap, l.used + w.wanted)
        from want w, locked l
        where c.scope = w.scope and c.bucket = w.bucket and l.scope = c.scope and l.bucket = c.bucket
        returning c.scope, c.bucket, c.used, l.used as before`,
  );
  for (const r of rows)
    granted.set(`${r.scope}|${r.bucket}`, Math.max(0, Number(r.used) - Number(r.before)));
  return granted;
}

/** Gives cap slots back (sends that did not go out), in one statement. */
export async function releaseCaps(db: Executor, released: Map<string, number>): Promise<void> {
  const rows = [...released].filter(([, n]) => n > 0);
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map(([id, n]) => {
      const [scope, bucket] = id.split("|");
      return { scope, bucket, n };
    }),
  );
  await db.execute(
    sql`update dispatch.cap_counters c set used = greatest(0, c.used - v.n)
        from jsonb_to_recordset(${json}::jsonb) as v(scope text, bucket text, n int)
        where c.scope = v.scope and c.bucket = v.bucket`,
  );
}

export type Finish = {
  key: string;
  state: "scheduled" | "sent" | "failed" | "skipped";
  reason?: string | undefined;
  dueAt?: Date | undefined;
  dispatchId?: string | null | undefined;
  providerMessageId?: string | null | undefined;
  sentAt?: Date | undefined;
};

/**
 * Records verdicts in one statement. Only a send this instance still holds (`sending`)
 * changes: if its lease ran out and another instance took over, the first to record wins
 * and the other's verdict (the agent replayed the same dispatch) changes nothing.
 */
export async function finish(tx: Executor, rows: Finish[], now: Date): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const json = JSON.stringify(
    rows.map((r) => ({
      key: r.key,
      state: r.state,
      reason: r.reason ?? null,
      due_at: r.dueAt?.toISOString() ?? null,
      dispatch_id: r.dispatchId ?? null,
      pmid: r.providerMessageId ?? null,
      sent_at: r.sentAt?.toISOString() ?? null,
    })),
  );
  const done = await queryRows<{ key: string }>(
    tx,
    sql`update dispatch.sends s
        set state = v.state,
            reason = coalesce(v.reason, s.reason),
            due_at = coalesce(v.due_at, s.due_at),
            dispatch_id = coalesce(v.dispatch_id, s.dispatch_id),
            provider_message_id = coalesce(v.pmid, s.provider_message_id),
            sent_at = coalesce(v.sent_at, s.sent_at),
            lease_until = null,
            updated_at = ${now.toISOString()}::timestamptz
        from jsonb_to_recordset(${json}::jsonb)
          as v(key text, state text, reason text, due_at timestamptz, dispatch_id text, pmid text, sent_at timestamptz)
        where s.key = v.key and s.state = 'sending'
        returning s.key`,
  );
  return new Set(done.map((r) => r.key));
}

/** Stops a lead's scheduled sends (reply, booking, opt-out…): returns what was stopped. */
export async function cancelScheduled(tx: Executor, leadId: string, reason: string, now: Date) {
  return tx
    .update(sends)
    .set({ state: "skipped", reason, updatedAt: now, leaseUntil: null })
    .where(and(eq(sends.leadId, leadId), eq(sends.state, "scheduled")))
    .returning();
}

/** Records an opt-out (the first reason stays) and whether it is new. */
export async function optOut(tx: Executor, leadId: string, reason: string, at: Date) {
  await tx
    .insert(leads)
    .values({ leadId, optedOutAt: at, optOutReason: reason, updatedAt: at })
    .onConflictDoUpdate({
      target: leads.leadId,
      set: { optedOutAt: at, optOutReason: reason, updatedAt: at },
      setWhere: sql`${leads.optedOutAt} is null`,
    });
}

export async function setSuppressed(tx: Executor, leadId: string, suppressed: boolean, at: Date) {
  await tx
    .insert(leads)
    .values({ leadId, suppressed, updatedAt: at })
    .onConflictDoUpdate({ target: leads.leadId, set: { suppressed, updatedAt: at } });
}

/** The kill switch as of the command's time: an older command never overrides a newer one. */
export async function setKillSwitch(
  tx: Executor,
  s: { engaged: boolean; by: string; reason?: string | undefined; at: Date },
) {
  await tx
    .insert(controls)
    .values({
      name: "kill_switch",
      engaged: s.engaged,
      by: s.by,
      reason: s.reason ?? null,
      at: s.at,
    })
    .onConflictDoUpdate({
      target: controls.name,
      set: { engaged: s.engaged, by: s.by, reason: s.reason ?? null, at: s.at },
      setWhere: sql`${controls.at} <= ${s.at.toISOString()}::timestamptz`,
    });
}

/** Housekeeping: cap buckets that ended. */
export async function pruneCaps(db: Executor, now: Date): Promise<void> {
  await db.delete(capCounters).where(lte(capCounters.expiresAt, now));
}
