/**
 * The scoring service: applies lead events and outreach outcomes to each
 * lead's stored state, scores it, and emits `lead.scored.v1` for new leads and
 * material changes. Every handler runs in one transaction with the inbox mark
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
  Topics,
  unverifiedDetail,
  verifyCommand,
} from "@pw/events";
import type { Logger } from "@pw/logger";
import { continueTrace } from "@pw/service";
import {
  builtinScore,
  countOutcome,
  decide,
  labelOf,
  type Scored,
  type ScoredEvent,
  type ScoreInput,
  vendorScore,
} from "./decision.ts";
import {
  claimEvents,
  engagementOf,
  insertSignals,
  loadLeads,
  type NewSignal,
  profileOf,
  writeLeads,
} from "./lead-store.ts";
import { learn, scoreFeatures, sigmoid } from "./model/builtin.ts";
import { extractFeatures, type Icp } from "./model/features.ts";
import {
  activeModel,
  latestVersion,
  modelCache,
  saveNewVersion,
  versionName,
  versionWeights,
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
  onScore?: (scorer: "builtin" | "stackai", fallback: boolean) => void;
  stackai?: StackAiScorer;
  icp?: Icp;
  logger?: Logger;
  now?: () => Date;
};

export type HandlerOutcome = "emitted" | "unchanged" | "duplicate" | "ignored";

export function scoringServiceBuilder(deps: ScoringDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const model = modelCache();

  async function score(
    tx: Executor,
    lead: Omit<ScoreInput, "icp" | "now">,
    vendor: VendorView,
  ): Promise<Scored> {
    const input = { ...lead, icp: deps.icp, now: now() };
    deps.onScore?.(vendor?.ok ? "stackai" : "builtin", Boolean(vendor && !vendor.ok));
    if (vendor?.ok) return vendorScore(input, vendor.out);
    return builtinScore(input, await model.get(tx), vendor?.reason);
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
      const emitted: ScoredEvent[] = [];
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
        const scored = await score(
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
        lead.row = next.row;
        if (next.event) emitted.push(next.event);
        outcomes.push(next.event ? "emitted" : "unchanged");
      }
      await insertSignals(tx, newSignals);
      const rows = [...leads.values()].flatMap((l) => (l.row ? [l.row] : []));
      await writeLeads(tx, rows, emitted);
      return outcomes;
    });
  }

  /** One event: exactly a batch of one. */
  async function handleLeadEvent(event: LeadEvent): Promise<HandlerOutcome> {
    const [outcome] = await handleLeadEvents([event]);
    return outcome!;
  }

  async function handleOutcome(event: OutreachOutcome): Promise<HandlerOutcome> {
    if (event.type !== "outreach.outcome.v1") {
      await markProcessed(db, schema.scoringInbox, CONSUMER, event.id);
      return "ignored";
    }
    const leadId = event.subject;
    const kind = event.data.outcome;
    return db.transaction(async (tx) => {
      if (!(await markProcessed(tx, schema.scoringInbox, CONSUMER, event.id))) return "duplicate";
      const leads = await loadLeads(tx, [leadId], signalWindowStart(now()), { lock: true });
      const { row: existing, signals: recent } = leads.get(leadId)!;
      const stored = profileOf(existing);
      const profile = flatten(stored);
      const signals = recent.slice(0, MAX_SIGNALS);
      const before = engagementOf(existing);
      const engagement = countOutcome(before, event.data);
      const label = labelOf(kind);
      if (label !== undefined) {
        // Features as they were before this outcome: the outcome is the label, not an input.
        const current = await activeModel(tx, true);
        const features = extractFeatures({
          profile,
          signals,
          engagement: before,
          icp: deps.icp,
          now: now(),
        });
        const weights = learn(current.weights, features, label);
        const reason = `online update from ${kind} (${event.id})`;
        // What the model said before it learned from this outcome (test-then-train).
        const predicted = sigmoid(scoreFeatures(features, current.weights).logit);
        const version = await saveNewVersion(tx, current.version, weights, reason, {
          cause: "online_update",
          evaluation: { label, predicted: Math.round(predicted * 1e6) / 1e6 },
          at: now(),
        });
        model.set({ version, weights });
      }
      const scored = await score(tx, { profile, signals, engagement }, undefined);
      const next = decide({
        leadId,
        existing,
        profile: stored,
        engagement,
        scored,
        traceparent: continueTrace(event),
        now: now(),
      });
      await writeLeads(tx, [next.row], next.event ? [next.event] : []);
      return next.event ? "emitted" : "unchanged";
    });
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
      const weights = await versionWeights(tx, version);
      if (!weights) {
        const detail = `model version ${version} does not exist (the latest is v${await latestVersion(tx)})`;
        await confirm(tx, command, { result: "refused", detail, reason: "unknown_version" });
        return { result: "rejected", reason: "unknown_version", detail } as const;
      }
      const current = await activeModel(tx, true);
      const why = `rollback to v${version} (by ${operator}${reason ? `: ${reason}` : ""})`;
      const active = await saveNewVersion(tx, current.version, weights, why, {
        cause: "rollback",
        restoredFrom: version,
        at: now(),
      });
      const detail = `model rolled back to v${version}: leads are scored with ${versionName(active)} (the weights of v${version}; v${current.version} before)`;
      await confirm(tx, command, { result: "applied", detail });
      return { result: "applied", detail, active: { version: active, weights } } as const;
    });
    // Only once committed: this instance scores with it at once (others within the cache TTL).
    if (outcome.result === "applied") model.set(outcome.active);
    const { active: _active, ...rest } = outcome as typeof outcome & { active?: unknown };
    return rest;
  }

  return { handleLeadEvent, handleLeadEvents, handleOutcome, handleCommand };
}
export type ScoringService = ReturnType<typeof scoringServiceBuilder>;
