/**
 * The scoring service: applies lead events and outreach outcomes to each
 * lead's stored state, scores it, and emits `lead.scored.v1` for new leads and
 * material changes, keeping with each emitted score the features it came from; the
 * engine's settlements label those (labels.ts) and refits learn from them (refit.ts). Every handler runs in one transaction with the inbox mark
 * and the outbox write, so a redelivered event changes nothing twice and no
 * emitted event describes a rolled-back change. The rules are pure
 * (profile.ts, decision.ts); the SQL is lead-store.ts; stackAI is vendor.ts.
 */
import type { KeyObject } from "node:crypto";
import { type Db, type Executor, markProcessed } from "@pw/db";
import * as schema from "@pw/db/scoring";
import {
  commandResult,
  commandServices,
  type LeadEvent,
  type OperatorCommand,
  type OutreachOutcome,
  type OutreachSettlement,
  Topics,
  unverifiedDetail,
  verifyCommand,
} from "@pw/events";
import type { Logger } from "@pw/logger";
import { continueTrace } from "@pw/service";
import type { RefitSettings } from "./config.ts";
import {
  countOutcome,
  decide,
  type Example,
  type LeadRow,
  type Scored,
  type ScoredEvent,
  type ScoreInput,
  scoreLead,
} from "./decision.ts";
import { insertExamples, labelSends, type Settled } from "./labels.ts";
import {
  claimEvents,
  engagementOf,
  insertSignals,
  loadLeads,
  type NewSignal,
  profileOf,
  writeLeads,
} from "./lead-store.ts";
import type { Icp } from "./model/features.ts";
import {
  activeModel,
  latestVersion,
  modelCache,
  saveNewVersion,
  storedVersion,
  versionName,
} from "./model-store.ts";
import { outbox } from "./outbox.ts";
import {
  applyEvent,
  flatten,
  MAX_SIGNALS,
  signalOf,
  signalWindowStart,
  withSignal,
} from "./profile.ts";
import { refitter } from "./refit.ts";
import type { StackAiScorer } from "./stackai-scorer.ts";
import { type VendorView, vendorViews } from "./vendor.ts";

const CONSUMER = "scoring";

/** Whose signatures operator commands need (ADR 0009); no keys: every command refused. */
export type CommandAuth = {
  keys: ReadonlyMap<string, KeyObject>;
  maxAgeMs: number;
  maxSkewMs: number;
};

export type ScoringDeps = {
  db: Db;
  commandAuth?: CommandAuth;
  /** Called for every score computed (metrics). */
  onScore?: (scorer: "builtin" | "stackai", fallback: boolean, scored: Scored) => void;
  stackai?: StackAiScorer;
  icp?: Icp;
  /** Refits of the built-in model (config.ts `refit`; ADR 0017). */
  refit?: RefitSettings;
  logger?: Logger;
  now?: () => Date;
};

/** A refit's defaults when the caller gives none: the config's defaults. */
const DEFAULT_REFIT: RefitSettings = {
  everyLabels: 500,
  checkEveryMs: 30_000,
  maxExamples: 20_000,
  holdoutFraction: 0.2,
  l2: 2,
};

export type HandlerOutcome = "emitted" | "unchanged" | "duplicate" | "ignored" | "labelled";

export function scoringServiceBuilder(deps: ScoringDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const model = modelCache();

  const refits = refitter({
    db,
    settings: deps.refit ?? DEFAULT_REFIT,
    now,
    onPromoted: (v) => model.set(v),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });

  async function score(
    tx: Executor,
    lead: Omit<ScoreInput, "icp" | "now">,
    vendor: VendorView,
  ): Promise<{ scored: Scored; example: Example }> {
    const input = { ...lead, icp: deps.icp, now: now() };
    const active = await model.get(tx);
    const out = vendor?.ok
      ? scoreLead(input, active, { out: vendor.out })
      : scoreLead(input, active, { fallbackReason: vendor?.reason });
    deps.onScore?.(vendor?.ok ? "stackai" : "builtin", Boolean(vendor && !vendor.ok), out.scored);
    return out;
  }

  /**
   * What a batch of events changed: each lead's next row (later events see it) and the
   * scores to emit, written at the end in one statement each — the lead rows, the outbox,
   * and the examples a refit learns from once their sends are settled.
   */
  function rescores() {
    const emitted: { event: ScoredEvent; example: Example }[] = [];
    return {
      rescored(
        lead: { row: LeadRow | undefined },
        next: { row: LeadRow; event: ScoredEvent | undefined },
        example: Example,
      ): HandlerOutcome {
        lead.row = next.row;
        if (!next.event) return "unchanged";
        emitted.push({ event: next.event, example });
        return "emitted";
      },
      async write(tx: Executor, leads: Iterable<{ row: LeadRow | undefined }>) {
        const rows = [...leads].flatMap((l) => (l.row ? [l.row] : []));
        await writeLeads(
          tx,
          rows,
          emitted.map((e) => e.event),
        );
        await insertExamples(
          tx,
          emitted.map(({ event, example }) => ({
            ...example,
            scoredEventId: event.id,
            leadId: event.subject,
            scoredAt: new Date(event.data.scoredAt),
          })),
        );
      },
    };
  }

  /**
   * Many events in one transaction, set-based: one statement each for the
   * inbox, the leads with their signals, the new signals, the lead rows and
   * the outbox, however many events. Events apply in order, each seeing the
   * state the ones before it left, so the effects are those of the events
   * one by one. If anything fails, all roll back and the bus retries them.
   */
  async function handleLeadEvents(events: LeadEvent[]): Promise<HandlerOutcome[]> {
    if (events.length === 0) return [];
    const vendors = await vendorViews({ ...deps, now }, events);
    return db.transaction(async (tx) => {
      const fresh = await claimEvents(
        tx,
        CONSUMER,
        events.map((e) => e.id),
      );
      const leadIds = events
        .filter((e) => fresh.has(e.id) && e.type !== "lead.unknown_event.v1")
        .map((e) => e.subject);
      const since = signalWindowStart(now());
      const leads = await loadLeads(tx, [...new Set(leadIds)], since, { lock: true });
      const outcomes: HandlerOutcome[] = [];
      const newSignals: NewSignal[] = [];
      const batch = rescores();
      for (const [i, event] of events.entries()) {
        // Only an id's first occurrence is fresh: a repeat within the batch is a duplicate.
        if (!fresh.delete(event.id)) {
          outcomes.push("duplicate");
          continue;
        }
        if (event.type === "lead.unknown_event.v1") {
          outcomes.push("ignored");
          continue;
        }
        const leadId = event.subject;
        const lead = leads.get(leadId)!;
        const profile = applyEvent(profileOf(lead.row), event);
        if (event.type === "lead.intent_signal.v1") {
          const signal = signalOf(event);
          newSignals.push({ leadId, eventId: event.id, ...signal });
          lead.signals = withSignal(lead.signals, signal, since);
        }
        const engagement = engagementOf(lead.row);
        const signals = lead.signals.slice(0, MAX_SIGNALS);
        const { scored, example } = await score(
          tx,
          { profile: flatten(profile), signals, engagement },
          vendors[i],
        );
        const next = decide({
          leadId,
          existing: lead.row,
          profile,
          engagement,
          scored,
          traceparent: continueTrace(event),
          now: now(),
        });
        outcomes.push(batch.rescored(lead, next, example));
      }
      await insertSignals(tx, newSignals);
      await batch.write(tx, leads.values());
      return outcomes;
    });
  }

  /** One event: exactly a batch of one. */
  async function handleLeadEvent(event: LeadEvent): Promise<HandlerOutcome> {
    const [outcome] = await handleLeadEvents([event]);
    return outcome!;
  }

  /**
   * Outreach outcomes, many in one transaction like lead events: each changes what
   * scoring knows about its lead (engagement, opt-out) and rescores it, in order, each
   * seeing what the ones before it left. What an outcome teaches the model arrives with
   * the send's settlement (labels.ts): no outcome reads or locks the model.
   */
  async function handleOutcomes(events: OutreachOutcome[]): Promise<HandlerOutcome[]> {
    if (events.length === 0) return [];
    return db.transaction(async (tx) => {
      const fresh = await claimEvents(
        tx,
        CONSUMER,
        events.map((e) => e.id),
      );
      const known = events.filter((e) => e.type === "outreach.outcome.v1" && fresh.has(e.id));
      const leads = await loadLeads(
        tx,
        [...new Set(known.map((e) => e.subject))],
        signalWindowStart(now()),
        { lock: true },
      );
      const outcomes: HandlerOutcome[] = [];
      const batch = rescores();
      for (const event of events) {
        if (!fresh.delete(event.id)) {
          outcomes.push("duplicate");
          continue;
        }
        if (event.type !== "outreach.outcome.v1") {
          outcomes.push("ignored");
          continue;
        }
        const leadId = event.subject;
        const lead = leads.get(leadId)!;
        const stored = profileOf(lead.row);
        const profile = flatten(stored);
        const signals = lead.signals.slice(0, MAX_SIGNALS);
        const engagement = countOutcome(engagementOf(lead.row), event.data);
        const { scored, example } = await score(tx, { profile, signals, engagement }, undefined);
        const next = decide({
          leadId,
          existing: lead.row,
          profile: stored,
          engagement,
          scored,
          traceparent: continueTrace(event),
          now: now(),
        });
        outcomes.push(batch.rescored(lead, next, example));
      }
      await batch.write(tx, leads.values());
      return outcomes;
    });
  }

  /** One outcome: exactly a batch of one. */
  async function handleOutcome(event: OutreachOutcome): Promise<HandlerOutcome> {
    const [outcome] = await handleOutcomes([event]);
    return outcome!;
  }

  /**
   * The engine's settlements (`outreach.settled.v1`): each labels the score its send was
   * decided on, in one transaction per batch with the inbox marks. No model row is read or
   * locked: refits happen apart (refit.ts), so outcomes never queue behind one another.
   */
  async function handleSettlements(events: OutreachSettlement[]): Promise<HandlerOutcome[]> {
    if (events.length === 0) return [];
    const outcomes = await db.transaction(async (tx) => {
      const fresh = await claimEvents(
        tx,
        CONSUMER,
        events.map((e) => e.id),
      );
      const settled: Settled[] = [];
      const isFresh = events.map((e) => {
        if (!fresh.delete(e.id)) return false;
        settled.push({ leadId: e.subject, data: e.data });
        return true;
      });
      const labelled = await labelSends(tx, settled, now());
      return events.map(
        (e, i): HandlerOutcome =>
          !isFresh[i] ? "duplicate" : labelled.has(e.data.requestId) ? "labelled" : "ignored",
      );
    });
    return outcomes;
  }

  async function handleSettlement(event: OutreachSettlement): Promise<HandlerOutcome> {
    const [outcome] = await handleSettlements([event]);
    return outcome!;
  }

  /** Scoring's answer to a command (`operator.command_result.v1`), in the caller's transaction. */
  async function confirm(
    tx: Executor,
    command: OperatorCommand,
    r: { result: "applied" | "refused"; detail: string; reason?: string },
  ) {
    await outbox.enqueue(tx, Topics.operatorCommandResults, [
      commandResult(command, { service: "scoring", ...r, at: new Date() }),
    ]);
  }

  /**
   * Operator commands meant for scoring (a model rollback), verified like every consumer
   * verifies them (ADR 0009) and confirmed in the transaction that applies or refuses them.
   * A refused signature touches nothing but its confirmation (not even the inbox).
   */
  async function handleCommand(
    command: OperatorCommand,
  ): Promise<{ result: string; reason?: string; detail?: string }> {
    if (!commandServices(command).includes("scoring")) return { result: "ignored" };
    const verified = verifyCommand(command, {
      keys: deps.commandAuth?.keys ?? new Map(),
      maxAgeMs: deps.commandAuth?.maxAgeMs ?? 86_400_000,
      maxSkewMs: deps.commandAuth?.maxSkewMs ?? 300_000,
      now: new Date(),
    });
    if (!verified.ok) {
      await db.transaction((tx) =>
        confirm(tx, command, {
          result: "refused",
          detail: unverifiedDetail(verified.reason, verified.detail),
          reason: verified.reason,
        }),
      );
      return { result: "unauthenticated", reason: verified.reason, detail: verified.detail };
    }
    if (command.type !== "operator.model_rollback.v1") return { result: "ignored" };
    const { version, operator, reason } = command.data;
    const outcome = await db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.scoringInbox, CONSUMER, command.id)))
        return { result: "duplicate" } as const;
      const stored = await storedVersion(tx, version);
      if (!stored) {
        const detail = `model version ${version} does not exist (the latest is v${await latestVersion(tx)})`;
        await confirm(tx, command, { result: "refused", detail, reason: "unknown_version" });
        return { result: "rejected", reason: "unknown_version", detail } as const;
      }
      const current = await activeModel(tx, true);
      const why = `rollback to v${version} (by ${operator}${reason ? `: ${reason}` : ""})`;
      const restored = { weights: stored.weights, tiers: stored.tiers };
      const active = await saveNewVersion(tx, current.version, restored, why, {
        cause: "rollback",
        restoredFrom: version,
        at: now(),
      });
      const detail = `model rolled back to v${version}: leads are scored with ${versionName(active)} (the weights of v${version}; v${current.version} before)`;
      await confirm(tx, command, { result: "applied", detail });
      return { result: "applied", detail, active: { version: active, ...restored } } as const;
    });
    // Only once committed: this instance scores with it at once (others within the cache TTL).
    if (outcome.result === "applied") model.set(outcome.active);
    const { active: _active, ...rest } = outcome as typeof outcome & { active?: unknown };
    return rest;
  }

  return {
    handleLeadEvent,
    handleLeadEvents,
    handleOutcome,
    handleOutcomes,
    handleSettlement,
    handleSettlements,
    handleCommand,
    /** Refits when enough sends were labelled since the last one (refit.ts). */
    refitIfDue: refits.refitIfDue,
  };
}
export type ScoringService = ReturnType<typeof scoringServiceBuilder>;
