/**
 * The scoring service: keeps each lead's profile (fields merged by the time
 * they happened), intent signals and engagement; scores with stackAI when
 * configured or the built-in model; emits `lead.scored.v1` for new leads and
 * material changes; learns from outcomes. Every handler runs in one
 * transaction with the inbox mark and the outbox write, so a redelivered event
 * changes nothing twice and no emitted event describes a rolled-back change.
 */
import { type Db, type Executor, enqueue, markProcessed, schema } from "@pw/db";
import {
  envelope,
  type LeadEvent,
  type LeadScoredV1,
  type OutreachOutcome,
  Topics,
} from "@pw/events";
import type { Logger } from "@pw/logger";
import { and, desc, eq, gte, inArray, sql } from "drizzle-orm";
import { learn, scoreFeatures, tierOf } from "./model/builtin.ts";
import {
  type Engagement,
  extractFeatures,
  type Icp,
  type Profile,
  painPointFor,
  SIGNAL_WEIGHTS,
  type Signal,
  segmentOf,
} from "./model/features.ts";
import { activeModel, modelCache, saveNewVersion } from "./model-store.ts";
import type { StackAiScorer } from "./stackai-scorer.ts";

export const CONSUMER = "scoring";
const SOURCE = "pw://scoring";
/** A score move smaller than this is not news (no event), unless tier/segment/contactability change. */
export const MATERIAL_DELTA = 5;
/** Signals older than this no longer move the score (decay makes them ~0). */
const SIGNAL_WINDOW_DAYS = 90;

type StoredProfile = Record<string, { value: unknown; at: string }>;

export type ScoringDeps = {
  db: Db;
  /** Called for every score computed (metrics). */
  onScore?: (scorer: "builtin" | "stackai", fallback: boolean) => void;
  stackai?: StackAiScorer;
  icp?: Icp;
  logger?: Logger;
  now?: () => Date;
};

export function mergeProfile(
  stored: StoredProfile,
  patch: Record<string, unknown>,
  at: string,
): { merged: StoredProfile; changed: boolean } {
  const merged = { ...stored };
  let changed = false;
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const existing = merged[field];
    // Older news never overwrites newer data; equal times: the later delivery wins.
    if (existing && existing.at > at) continue;
    if (!existing || existing.value !== value) changed = true;
    merged[field] = { value, at };
  }
  return { merged, changed };
}

export function flatten(stored: StoredProfile): Profile {
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, v.value])) as Profile;
}

export function scoringServiceBuilder(deps: ScoringDeps) {
  const { db, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const model = modelCache();

  async function loadLead(tx: Executor, leadId: string) {
    const [row] = await tx
      .select()
      .from(schema.leads)
      .where(eq(schema.leads.leadId, leadId))
      .for("update");
    return row;
  }

  async function loadSignals(tx: Executor, leadId: string): Promise<Signal[]> {
    const since = new Date(now().getTime() - SIGNAL_WINDOW_DAYS * 86_400_000);
    const rows = await tx
      .select({
        kind: schema.signals.kind,
        occurredAt: schema.signals.occurredAt,
        url: schema.signals.url,
      })
      .from(schema.signals)
      .where(and(eq(schema.signals.leadId, leadId), gte(schema.signals.occurredAt, since)))
      .orderBy(desc(schema.signals.occurredAt))
      .limit(200);
    return rows;
  }

  type Scored = Pick<
    LeadScoredV1["data"],
    "score" | "tier" | "segment" | "reasons" | "model" | "facts" | "contactable"
  >;

  function facts(profile: Profile, signals: Signal[]): LeadScoredV1["data"]["facts"] {
    const latest = signals[0];
    const f: LeadScoredV1["data"]["facts"] = {};
    if (profile.email) f.email = profile.email;
    if (profile.firstName) f.firstName = profile.firstName;
    if (profile.company) f.company = profile.company;
    if (profile.title) f.role = profile.title;
    if (profile.industry) f.industry = profile.industry;
    if (latest) f.trigger = SIGNAL_WEIGHTS[latest.kind]?.label ?? latest.kind;
    f.painPoint = painPointFor(profile.industry);
    if (profile.timezone) f.timezone = profile.timezone;
    return f;
  }

  /** stackAI when configured (asked before the transaction: a slow vendor must not hold locks). */
  async function askStackAi(
    leadId: string,
    profile: Profile,
    signals: Signal[],
    engagement: Engagement,
  ) {
    if (!deps.stackai) return undefined;
    try {
      return {
        ok: true as const,
        out: await deps.stackai.score(leadId, { leadId, profile, signals, engagement }),
      };
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? "error";
      logger?.warn({ leadId, reason }, "stackAI unavailable; using the built-in model");
      return {
        ok: false as const,
        reason: `stackAI ${reason}: ${(error as Error).message}`.slice(0, 480),
      };
    }
  }

  async function score(
    tx: Executor,
    profile: Profile,
    signals: Signal[],
    engagement: Engagement,
    vendor: Awaited<ReturnType<typeof askStackAi>>,
  ): Promise<Scored> {
    const features = extractFeatures({ profile, signals, engagement, icp: deps.icp, now: now() });
    const contactable = !features.some((f) => f.name === "opted_out" && f.value > 0);
    const f = facts(profile, signals);
    deps.onScore?.(vendor?.ok ? "stackai" : "builtin", Boolean(vendor && !vendor.ok));
    if (vendor?.ok) {
      const out = vendor.out;
      return {
        score: out.score,
        tier: out.tier,
        segment: out.segment,
        reasons: out.reasons
          .slice(0, 5)
          .map((r, i) =>
            typeof r === "string"
              ? { code: `stackai.${i}`, label: r, contribution: 0 }
              : { code: `stackai.${i}`, label: r.label, contribution: r.contribution ?? 0 },
          ),
        model: { scorer: "stackai", version: "flow" },
        facts: f,
        contactable,
      };
    }
    const m = await model.get(tx);
    const s = scoreFeatures(features, m.weights);
    return {
      score: s.score,
      tier: s.tier,
      segment: segmentOf(profile),
      reasons: s.reasons,
      model: {
        scorer: "builtin",
        version: `builtin-v${m.version}`,
        ...(vendor && !vendor.ok ? { fallbackReason: vendor.reason } : {}),
      },
      facts: f,
      contactable,
    };
  }

  /** Writes the lead and, when it changed materially, the event — in the caller's transaction. */
  type LeadRow = typeof schema.leads.$inferSelect;

  /** Pure: the lead's next row, and the event to emit when the change is material. */
  function decide(
    leadId: string,
    existing: LeadRow | undefined,
    stored: StoredProfile,
    engagement: Engagement,
    scored: Scored,
    traceparent?: string,
  ) {
    const previous =
      existing?.score != null && existing.tier && existing.segment
        ? {
            score: existing.score,
            tier: existing.tier as LeadScoredV1["data"]["tier"],
            segment: existing.segment,
          }
        : undefined;
    const material =
      !previous ||
      Math.abs(previous.score - scored.score) >= MATERIAL_DELTA ||
      previous.tier !== scored.tier ||
      previous.segment !== scored.segment ||
      (existing?.contactable ?? true) !== scored.contactable;
    const row: LeadRow = {
      leadId,
      profile: stored,
      engagement,
      contactable: scored.contactable,
      score: material ? scored.score : (existing?.score ?? null),
      tier: material ? scored.tier : (existing?.tier ?? null),
      segment: material ? scored.segment : (existing?.segment ?? null),
      version: (existing?.version ?? 0) + 1,
      updatedAt: now(),
    };
    const event = material
      ? envelope({
          type: "lead.scored.v1",
          source: SOURCE,
          subject: leadId,
          ...(traceparent ? { traceparent } : {}),
          data: { ...scored, ...(previous ? { previous } : {}), scoredAt: now().toISOString() },
        })
      : undefined;
    return { row, event };
  }

  async function write(tx: Executor, rows: LeadRow[], events: ReturnType<typeof envelope>[]) {
    if (rows.length > 0) {
      await tx
        .insert(schema.leads)
        .values(rows)
        .onConflictDoUpdate({
          target: schema.leads.leadId,
          set: {
            profile: sql`excluded.profile`,
            engagement: sql`excluded.engagement`,
            contactable: sql`excluded.contactable`,
            score: sql`excluded.score`,
            tier: sql`excluded.tier`,
            segment: sql`excluded.segment`,
            version: sql`excluded.version`,
            updatedAt: sql`excluded.updated_at`,
          },
        });
    }
    await enqueue(
      tx,
      schema.scoringOutbox,
      events.map((e) => ({
        eventId: e.id,
        topic: Topics.leadScored,
        key: e.subject,
        payload: e,
        headers: (e.traceparent ? { traceparent: e.traceparent } : {}) as Record<string, string>,
      })),
    );
  }

  /** Writes the lead and, when it changed materially, the event — in the caller's transaction. */
  async function persist(
    tx: Executor,
    leadId: string,
    existing: LeadRow | undefined,
    stored: StoredProfile,
    engagement: Engagement,
    scored: Scored,
    traceparent?: string,
  ) {
    const { row, event } = decide(leadId, existing, stored, engagement, scored, traceparent);
    await write(tx, [row], event ? [event] : []);
    return Boolean(event);
  }

  type LeadOutcome = "emitted" | "unchanged" | "duplicate" | "ignored";

  /** The vendor's view, asked outside any transaction (a slow vendor must not hold locks). */
  async function vendorFor(event: LeadEvent) {
    if (!deps.stackai || event.type === "lead.unknown_event.v1") return undefined;
    const leadId = event.subject;
    const patch =
      event.type === "lead.crm_record_changed.v1" ? event.data.profile : (event.data.profile ?? {});
    const [row] = await db.select().from(schema.leads).where(eq(schema.leads.leadId, leadId));
    const { merged } = mergeProfile(
      (row?.profile as StoredProfile) ?? {},
      patch,
      event.data.occurredAt,
    );
    const signals = await loadSignals(db, leadId);
    if (event.type === "lead.intent_signal.v1")
      signals.unshift({
        kind: event.data.signal,
        occurredAt: new Date(event.data.occurredAt),
        url: event.data.url ?? null,
      });
    return askStackAi(leadId, flatten(merged), signals, (row?.engagement as Engagement) ?? {});
  }

  /** One event's effect, inside the caller's transaction. */
  async function applyLeadEvent(
    tx: Executor,
    event: LeadEvent,
    vendor: Awaited<ReturnType<typeof askStackAi>>,
  ): Promise<LeadOutcome> {
    if (!(await markProcessed(tx, schema.scoringInbox, CONSUMER, event.id))) return "duplicate";
    if (event.type === "lead.unknown_event.v1") return "ignored";
    const leadId = event.subject;
    const patch =
      event.type === "lead.crm_record_changed.v1" ? event.data.profile : (event.data.profile ?? {});
    const at = event.data.occurredAt;
    const existing = await loadLead(tx, leadId);
    const { merged } = mergeProfile((existing?.profile as StoredProfile) ?? {}, patch, at);
    if (event.type === "lead.intent_signal.v1") {
      await tx
        .insert(schema.signals)
        .values({
          leadId,
          eventId: event.id,
          kind: event.data.signal,
          url: event.data.url ?? null,
          occurredAt: new Date(at),
        })
        .onConflictDoNothing();
    }
    const signals = await loadSignals(tx, leadId);
    const engagement = (existing?.engagement as Engagement) ?? {};
    const scored = await score(tx, flatten(merged), signals, engagement, vendor);
    return (await persist(tx, leadId, existing, merged, engagement, scored, event.traceparent))
      ? "emitted"
      : "unchanged";
  }

  async function handleLeadEvent(event: LeadEvent): Promise<LeadOutcome> {
    const vendor = await vendorFor(event);
    return db.transaction((tx) => applyLeadEvent(tx, event, vendor));
  }

  /**
   * Many events in one transaction, set-based: one statement each for the inbox,
   * the leads, their signals, the new signals, the lead rows and the outbox —
   * instead of five per event — with the same effects as one by one (events are
   * applied in order, each seeing only the signals that came before it). If
   * anything fails, all roll back and the bus retries them one at a time.
   */
  async function handleLeadEvents(events: LeadEvent[]): Promise<LeadOutcome[]> {
    const vendors = await Promise.all(events.map(vendorFor));
    return db.transaction(async (tx) => {
      const inserted = await tx
        .insert(schema.scoringInbox)
        .values(
          [...new Set(events.map((e) => e.id))].map((eventId) => ({ consumer: CONSUMER, eventId })),
        )
        .onConflictDoNothing()
        .returning({ eventId: schema.scoringInbox.eventId });
      const fresh = new Set(inserted.map((r) => r.eventId));
      const leadIds = [
        ...new Set(
          events
            .filter((e) => fresh.has(e.id) && e.type !== "lead.unknown_event.v1")
            .map((e) => e.subject),
        ),
      ];
      const state = new Map<string, { row: LeadRow | undefined; signals: Signal[] }>();
      if (leadIds.length > 0) {
        const rows = await tx
          .select()
          .from(schema.leads)
          .where(inArray(schema.leads.leadId, leadIds))
          .for("update");
        const since = new Date(now().getTime() - SIGNAL_WINDOW_DAYS * 86_400_000);
        const sigs = await tx
          .select()
          .from(schema.signals)
          .where(
            and(inArray(schema.signals.leadId, leadIds), gte(schema.signals.occurredAt, since)),
          )
          .orderBy(desc(schema.signals.occurredAt));
        for (const id of leadIds)
          state.set(id, { row: rows.find((r) => r.leadId === id), signals: [] });
        for (const sig of sigs)
          state
            .get(sig.leadId)
            ?.signals.push({ kind: sig.kind, occurredAt: sig.occurredAt, url: sig.url });
      }
      const outcomes: LeadOutcome[] = [];
      const newSignals: (typeof schema.signals.$inferInsert)[] = [];
      const emitted: ReturnType<typeof envelope>[] = [];
      const touched = new Set<string>();
      for (const [i, event] of events.entries()) {
        if (!fresh.delete(event.id)) {
          outcomes.push("duplicate");
          continue;
        }
        if (event.type === "lead.unknown_event.v1") {
          outcomes.push("ignored");
          continue;
        }
        const leadId = event.subject;
        const st = state.get(leadId)!;
        const patch =
          event.type === "lead.crm_record_changed.v1"
            ? event.data.profile
            : (event.data.profile ?? {});
        const { merged } = mergeProfile(
          (st.row?.profile as StoredProfile) ?? {},
          patch,
          event.data.occurredAt,
        );
        if (event.type === "lead.intent_signal.v1") {
          const occurredAt = new Date(event.data.occurredAt);
          newSignals.push({
            leadId,
            eventId: event.id,
            kind: event.data.signal,
            url: event.data.url ?? null,
            occurredAt,
          });
          st.signals.push({ kind: event.data.signal, occurredAt, url: event.data.url ?? null });
          st.signals.sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime());
        }
        const engagement = (st.row?.engagement as Engagement) ?? {};
        const scored = await score(
          tx,
          flatten(merged),
          st.signals.slice(0, 200),
          engagement,
          vendors[i],
        );
        const { row, event: out } = decide(
          leadId,
          st.row,
          merged,
          engagement,
          scored,
          event.traceparent,
        );
        st.row = row;
        touched.add(leadId);
        if (out) emitted.push(out);
        outcomes.push(out ? "emitted" : "unchanged");
      }
      if (newSignals.length > 0)
        await tx.insert(schema.signals).values(newSignals).onConflictDoNothing();
      await write(
        tx,
        [...touched].map((id) => state.get(id)!.row!),
        emitted,
      );
      return outcomes;
    });
  }

  async function handleOutcome(
    event: OutreachOutcome,
  ): Promise<"emitted" | "unchanged" | "duplicate" | "ignored"> {
    if (event.type !== "outreach.outcome.v1") {
      await markProcessed(db, schema.scoringInbox, CONSUMER, event.id);
      return "ignored";
    }
    const leadId = event.subject;
    const kind = event.data.outcome;
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.scoringInbox, CONSUMER, event.id))) return "duplicate";
      const existing = await loadLead(tx, leadId);
      const stored = (existing?.profile as StoredProfile) ?? {};
      const engagement: Engagement = { ...((existing?.engagement as Engagement) ?? {}) };
      if (kind === "bounced" && event.data.bounceType === "soft") {
        // A soft bounce is transient: it neither opts the lead out nor teaches the model.
      } else {
        engagement[kind] = (engagement[kind] ?? 0) + 1;
      }
      const signals = await loadSignals(tx, leadId);
      const profile = flatten(stored);
      // Learn: conversions and meetings are positives, opt-outs negatives. Features as
      // they were before this outcome (the outcome is the label, not an input).
      const label =
        kind === "converted" || kind === "meeting_booked"
          ? 1
          : kind === "unsubscribed"
            ? 0
            : undefined;
      if (label !== undefined) {
        const current = await activeModel(tx, true);
        const features = extractFeatures({
          profile,
          signals,
          engagement: (existing?.engagement as Engagement) ?? {},
          icp: deps.icp,
          now: now(),
        });
        const weights = learn(current.weights, features, label);
        const version = await saveNewVersion(
          tx,
          current.version,
          weights,
          `online update from ${kind} (${event.id})`,
        );
        model.set({ version, weights });
      }
      const scored = await score(tx, profile, signals, engagement, undefined);
      return (await persist(tx, leadId, existing, stored, engagement, scored, event.traceparent))
        ? "emitted"
        : "unchanged";
    });
  }

  return { handleLeadEvent, handleLeadEvents, handleOutcome };
}
export type ScoringService = ReturnType<typeof scoringServiceBuilder>;
export { tierOf };
