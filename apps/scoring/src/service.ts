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
import { and, desc, eq, gte } from "drizzle-orm";
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
import type { StackAiClient } from "./stackai/client.ts";

export const CONSUMER = "scoring";
const SOURCE = "pw://scoring";
/** A score move smaller than this is not news (no event), unless tier/segment/contactability change. */
export const MATERIAL_DELTA = 5;
/** Signals older than this no longer move the score (decay makes them ~0). */
const SIGNAL_WINDOW_DAYS = 90;

type StoredProfile = Record<string, { value: unknown; at: string }>;

export type ScoringDeps = {
  db: Db;
  stackai?: StackAiClient;
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
  async function persist(
    tx: Executor,
    leadId: string,
    existing: typeof schema.leads.$inferSelect | undefined,
    stored: StoredProfile,
    engagement: Engagement,
    scored: Scored,
    traceparent?: string,
  ) {
    const previous =
      existing?.score != null && existing.tier && existing.segment
        ? { score: existing.score, tier: existing.tier as "hot", segment: existing.segment }
        : undefined;
    const material =
      !previous ||
      Math.abs(previous.score - scored.score) >= MATERIAL_DELTA ||
      previous.tier !== scored.tier ||
      previous.segment !== scored.segment ||
      (existing?.contactable ?? true) !== scored.contactable;
    const values = {
      leadId,
      profile: stored,
      engagement,
      contactable: scored.contactable,
      ...(material ? { score: scored.score, tier: scored.tier, segment: scored.segment } : {}),
      version: (existing?.version ?? 0) + 1,
      updatedAt: new Date(),
    };
    await tx
      .insert(schema.leads)
      .values(values)
      .onConflictDoUpdate({ target: schema.leads.leadId, set: values });
    if (!material) return false;
    const event = envelope({
      type: "lead.scored.v1",
      source: SOURCE,
      subject: leadId,
      ...(traceparent ? { traceparent } : {}),
      data: { ...scored, ...(previous ? { previous } : {}), scoredAt: now().toISOString() },
    });
    await enqueue(tx, schema.scoringOutbox, [
      {
        eventId: event.id,
        topic: Topics.leadScored,
        key: leadId,
        payload: event,
        headers: traceparent ? { traceparent } : {},
      },
    ]);
    return true;
  }

  async function handleLeadEvent(
    event: LeadEvent,
  ): Promise<"emitted" | "unchanged" | "duplicate" | "ignored"> {
    if (event.type === "lead.unknown_event.v1") {
      await markProcessed(db, schema.scoringInbox, CONSUMER, event.id);
      return "ignored";
    }
    const leadId = event.subject;
    const patch =
      event.type === "lead.crm_record_changed.v1" ? event.data.profile : (event.data.profile ?? {});
    const at = event.data.occurredAt;

    // Vendor call outside the transaction, on the profile as it will be after this event.
    let vendor: Awaited<ReturnType<typeof askStackAi>>;
    if (deps.stackai) {
      const [row] = await db.select().from(schema.leads).where(eq(schema.leads.leadId, leadId));
      const { merged } = mergeProfile((row?.profile as StoredProfile) ?? {}, patch, at);
      const signals = await loadSignals(db, leadId);
      if (event.type === "lead.intent_signal.v1")
        signals.unshift({
          kind: event.data.signal,
          occurredAt: new Date(at),
          url: event.data.url ?? null,
        });
      vendor = await askStackAi(
        leadId,
        flatten(merged),
        signals,
        (row?.engagement as Engagement) ?? {},
      );
    }

    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.scoringInbox, CONSUMER, event.id))) return "duplicate";
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

  return { handleLeadEvent, handleOutcome };
}
export type ScoringService = ReturnType<typeof scoringServiceBuilder>;
export { tierOf };
