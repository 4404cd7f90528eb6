/**
 * Lightfield write-back: every send to a Lightfield contact leaves a note (or a task) on
 * the contact's account saying what was sent, which variant and why. Planned in the
 * send's transaction, worked off by a timer — a slow or failing CRM never holds a send
 * back. The Idempotency-Key is derived from the send's key, so a retry replays the first
 * note instead of writing a second; a concurrent duplicate's 409 is retried later, not
 * counted as a failure. Pacing by `X-RateLimit-*` and `Retry-After` is the client's.
 */
import type { Db, Executor } from "@pw/db";
import * as schema from "@pw/db/dispatch";
import type { Logger } from "@pw/logger";
import { backoffDelay } from "@pw/resilience";
import type { ServiceMetrics } from "@pw/service";
import { captureError, countMetric } from "@pw/telemetry";
import { and, eq, inArray, lte, sql } from "drizzle-orm";
import type { Clock } from "./clock.ts";
import type { SendRow } from "./store.ts";

/** What the write-back needs of a Lightfield client (@pw/lightfield implements it). */
export type LightfieldWriter = {
  /** The contact's account id (its `$account` relationship), if it has one. */
  accountOf(contactId: string): Promise<string | undefined>;
  createNote(
    note: { title: string; content: string; accountId?: string },
    options: { idempotencyKey: string },
  ): Promise<{ id: string }>;
  createTask(
    task: { title: string; description: string; assignedTo: string; accountId?: string },
    options: { idempotencyKey: string },
  ): Promise<{ id: string }>;
};

/** A Lightfield contact's id from a lead id (`lf_<contact id>`); accounts' leads have none. */
export function contactIdOf(leadId: string): string | undefined {
  if (!leadId.startsWith("lf_") || leadId.startsWith("lf_account_")) return undefined;
  return leadId.slice(3) || undefined;
}

export type WritebackPlanner = {
  plan(tx: Executor, sent: { row: SendRow; dispatchId: string }[], now: Date): Promise<void>;
};

const MAX_ATTEMPTS = 20;

export function writebackBuilder(o: {
  db: Db;
  clock: Clock;
  kind: "note" | "task";
  assignee?: string | undefined;
  client: LightfieldWriter;
  logger: Logger;
  metrics: ServiceMetrics;
  batch?: number;
}) {
  const { db, clock, client, logger } = o;
  const counter = o.metrics.counter(
    "pw_lightfield_writebacks_total",
    "Lightfield write-backs by result (done, retry, conflict, failed)",
    ["kind", "result"],
  );
  const pending = o.metrics.gauge(
    "pw_lightfield_writebacks_pending",
    "Write-backs waiting (including those retrying)",
  );

  const planner: WritebackPlanner = {
    async plan(tx, sent, now) {
      const rows = sent.flatMap(({ row, dispatchId }) => {
        const contactId = contactIdOf(row.leadId);
        if (!contactId) return [];
        const step = row.step === 0 ? "first touch" : `follow-up ${row.step}`;
        // The note sits on the account, among its other contacts' notes: the title says who.
        const title =
          `Outreach to ${row.to} (${row.variantId}): ${row.subject || capitalise(step)}`.slice(
            0,
            200,
          );
        const content = [
          `**${capitalise(step)}** sent to **${row.to}** (Lightfield contact \`${contactId}\`) by ${row.channel}.`,
          "",
          `- Variant: \`${row.variantId}\` · segment \`${row.segment}\` · track ${row.track}`,
          `- Why this message: ${row.why ?? "—"}`,
          `- Subject: ${row.subject || "—"}`,
          `- Dispatch: \`${dispatchId}\` · request \`${row.requestId}\``,
          "",
          "Sent by Pipeline Whisperer.",
        ].join("\n");
        return [
          {
            sendKey: row.key,
            leadId: row.leadId,
            contactId,
            kind: o.kind,
            title,
            content,
            nextAt: now,
            createdAt: now,
          },
        ];
      });
      if (rows.length > 0) await tx.insert(schema.writebacks).values(rows).onConflictDoNothing();
    },
  };

  async function one(w: typeof schema.writebacks.$inferSelect) {
    const idempotencyKey = `pw-writeback-${w.sendKey}`.slice(0, 255);
    try {
      const accountId = await client.accountOf(w.contactId);
      const created =
        w.kind === "task"
          ? await client.createTask(
              {
                title: w.title,
                description: w.content,
                assignedTo: o.assignee!,
                ...(accountId ? { accountId } : {}),
              },
              { idempotencyKey },
            )
          : await client.createNote(
              { title: w.title, content: w.content, ...(accountId ? { accountId } : {}) },
              { idempotencyKey },
            );
      await db
        .update(schema.writebacks)
        .set({ state: "done", lightfieldId: created.id, doneAt: clock.now(), lastError: null })
        .where(eq(schema.writebacks.sendKey, w.sendKey));
      counter.inc({ kind: w.kind, result: "done" });
    } catch (error) {
      const e = error as Error & { transient?: boolean; code?: string };
      const conflict = e.code === "idempotency_conflict";
      const transient = e.transient === true || conflict;
      const attempts = w.attempts + 1;
      const giveUp = !transient || attempts >= MAX_ATTEMPTS;
      await db
        .update(schema.writebacks)
        .set(
          giveUp
            ? { state: "failed", attempts, lastError: e.message.slice(0, 500) }
            : {
                attempts,
                lastError: e.message.slice(0, 500),
                nextAt: clock.after(
                  Math.max(500, backoffDelay(attempts, { initialMs: 1_000, maxMs: 300_000 })),
                ),
              },
        )
        .where(eq(schema.writebacks.sendKey, w.sendKey));
      counter.inc({ kind: w.kind, result: giveUp ? "failed" : conflict ? "conflict" : "retry" });
      if (giveUp) {
        const reason = e.code ?? (transient ? "attempts_exhausted" : "refused");
        countMetric("pw.vendor_fallbacks", 1, { vendor: "lightfield", reason });
        captureError(new Error(`Lightfield write-back failed for good: ${reason}`), {
          fingerprint: ["vendor", "lightfield", w.kind, reason],
          tags: { vendor: "lightfield", "send.key": w.sendKey, kind: w.kind },
        });
      }
      (giveUp ? logger.error : logger.warn).call(
        logger,
        { err: e, sendKey: w.sendKey, attempts },
        giveUp ? "Lightfield write-back failed for good" : "Lightfield write-back will be retried",
      );
    }
  }

  /** One pass: claims due write-backs (SKIP LOCKED, pushed ahead while in hand) and runs them. */
  async function drain(): Promise<number> {
    const now = clock.now();
    const due = db
      .select({ key: schema.writebacks.sendKey })
      .from(schema.writebacks)
      .where(and(eq(schema.writebacks.state, "pending"), lte(schema.writebacks.nextAt, now)))
      .orderBy(schema.writebacks.nextAt)
      .limit(o.batch ?? 50)
      .for("update", { skipLocked: true });
    const claimed = await db
      .update(schema.writebacks)
      .set({ nextAt: clock.after(120_000) })
      .where(inArray(schema.writebacks.sendKey, due))
      .returning();
    // The client paces itself; a few at a time keeps its queue short.
    for (let i = 0; i < claimed.length; i += 5) await Promise.all(claimed.slice(i, i + 5).map(one));
    return claimed.length;
  }

  async function gauge() {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(schema.writebacks)
      .where(eq(schema.writebacks.state, "pending"));
    pending.set(Number(row?.n ?? 0));
  }

  return { planner, drain, gauge };
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
