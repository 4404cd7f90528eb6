/**
 * What the Controls page reads from the gateway, as the page uses it. The answers are
 * read defensively (a list under `items`, or the bare array) so a field the gateway adds
 * or renames shows as "—" instead of breaking the card.
 */

import { isObj, type Json, listIn, num, str } from "../../lib/json.ts";

/** A later step of the cadence, rendered for the lead like the first. */
export type FollowUp = { step: number; delayDays: number; subject: string; body: string };

/** One decision the engine holds for approval (`GET /api/approvals`). */
export type HeldDecision = {
  requestId: string;
  lead: {
    id: string;
    name?: string | undefined;
    company?: string | undefined;
    role?: string | undefined;
    tier?: string | undefined;
  };
  segment: string;
  variantId: string;
  channel: string;
  to?: string | undefined;
  /** Exactly as it will be sent. */
  subject: string;
  body: string;
  followUps: FollowUp[];
  /** The engine's sentence on why this variant. */
  explanation: string;
  policy?: string | undefined;
  /** The probability with which the variant was picked. */
  propensity?: number | undefined;
  /** Who wrote the copy (stackai / template) and why it fell back, if it did. */
  copy?: string | undefined;
  heldAt: string | undefined;
  cadenceStep?: number | undefined;
};

export type Approvals = { items: HeldDecision[]; total: number };

export function approvals(data: unknown): Approvals {
  const items = listIn(data, "approvals").flatMap((raw): HeldDecision[] => {
    if (!isObj(raw)) return [];
    const requestId = str(raw.requestId);
    if (!requestId) return [];
    const lead = isObj(raw.lead) ? raw.lead : {};
    const message = isObj(raw.message) ? raw.message : raw;
    const ex = isObj(raw.explanation) ? raw.explanation : undefined;
    const copy = isObj(raw.copy) ? raw.copy : undefined;
    return [
      {
        requestId,
        lead: {
          id: str(lead.id) ?? str(lead.leadId) ?? str(raw.leadId) ?? "unknown lead",
          name: str(lead.name),
          company: str(lead.company),
          role: str(lead.role),
          tier: str(lead.tier),
        },
        segment: str(raw.segment) ?? "",
        variantId: str(raw.variantId) ?? str(raw.variant) ?? "—",
        channel: str(raw.channel) ?? str(message.channel) ?? "",
        to: str(raw.to) ?? str(message.to),
        subject: typeof message.subject === "string" ? message.subject : "",
        body: typeof message.body === "string" ? message.body : "",
        followUps: listIn(message.followUps).flatMap((f): FollowUp[] =>
          isObj(f)
            ? [
                {
                  step: num(f.step) ?? 0,
                  delayDays: num(f.delayDays) ?? 0,
                  subject: typeof f.subject === "string" ? f.subject : "",
                  body: typeof f.body === "string" ? f.body : "",
                },
              ]
            : [],
        ),
        explanation: (ex ? str(ex.summary) : str(raw.explanation)) ?? "",
        policy: ex ? str(ex.policy) : undefined,
        propensity: ex ? num(ex.propensity) : undefined,
        copy: copy
          ? copy.writer === "template" && str(copy.fallbackReason)
            ? `template (the rewrite fell back: ${str(copy.fallbackReason)})`
            : str(copy.writer)
          : undefined,
        heldAt: str(raw.heldAt) ?? str(raw.at),
        cadenceStep: num(raw.cadenceStep) ?? num(message.cadenceStep),
      },
    ];
  });
  const total = isObj(data) ? num(data.total) : undefined;
  return { items, total: total ?? items.length };
}

/**
 * How a version's predictions fared: a refit's on its holdout of recent labelled sends, or
 * (earlier releases) on the outcomes learned from up to it.
 */
export type ModelMetrics = {
  /** How many labelled sends (or outcomes) the figures are over. */
  window: number;
  brier: number | undefined;
  meanPredicted: number | undefined;
  observedRate: number | undefined;
  /** Any other figure the gateway adds, by name. */
  other: [string, number][];
};

/** One model's figures on a refit's holdout. */
export type HoldoutFigures = {
  n: number | undefined;
  auc: number | undefined;
  logLoss: number | undefined;
  ece: number | undefined;
};

/** A refit judged against the version active then, on the same recent labelled sends. */
export type ModelHoldout = {
  candidate: HoldoutFigures;
  previous: HoldoutFigures | undefined;
  trainedOn: number | undefined;
  verdict: string | undefined;
};

export type ModelTiers = {
  hot: number | undefined;
  warm: number | undefined;
  /** Fixed (the priors) or percentiles of recently scored leads, in scoring's words. */
  basis: string | undefined;
};

/** One version of the scoring model (`GET /api/models`). */
export type ModelVersion = {
  version: number;
  name: string | undefined;
  active: boolean;
  /** A refit that did not beat the active version: never used, still a rollback target. */
  rejected: boolean;
  /** initial, online_update (earlier releases), refit, rollback, rejected. */
  cause: string | undefined;
  reason: string | undefined;
  restoredFrom: number | undefined;
  /** When it became active (a rejected candidate: when it was judged). */
  activatedAt: string | undefined;
  /** When the next version replaced it (null while active, and for a rejected one). */
  supersededAt: string | undefined;
  metrics: ModelMetrics | undefined;
  holdout: ModelHoldout | undefined;
  /** The tiers' probability cut-offs it scores with, and how they were set. */
  tiers: ModelTiers | undefined;
};

export type ModelPage = {
  items: ModelVersion[];
  nextCursor: string | null;
  active: number | undefined;
};

const KNOWN_METRICS = ["window", "brier", "meanPredicted", "observedRate"];
/** Shown from `holdout`, beside the previous version's: not repeated as "other" figures. */
const HOLDOUT_METRICS = ["auc", "logLoss", "ece", "positives"];

const figuresOf = (f: unknown): HoldoutFigures | undefined =>
  isObj(f) ? { n: num(f.n), auc: num(f.auc), logLoss: num(f.logLoss), ece: num(f.ece) } : undefined;

function holdoutOf(h: unknown): ModelHoldout | undefined {
  if (!isObj(h)) return undefined;
  const candidate = figuresOf(h.candidate);
  if (!candidate) return undefined;
  return {
    candidate,
    previous: figuresOf(h.previous),
    trainedOn: num(h.trainedOn),
    verdict: str(h.verdict),
  };
}

export function modelPage(data: unknown): ModelPage {
  const items = listIn(data, "versions", "models").flatMap((raw): ModelVersion[] => {
    if (!isObj(raw)) return [];
    const version = num(raw.version);
    if (version === undefined) return [];
    const m = isObj(raw.metrics) ? raw.metrics : undefined;
    const holdout = holdoutOf(raw.holdout);
    return [
      {
        version,
        name: str(raw.name),
        active: raw.active === true,
        rejected: raw.rejected === true || raw.cause === "rejected",
        cause: str(raw.cause),
        reason: str(raw.reason),
        restoredFrom: num(raw.restoredFrom),
        activatedAt: str(raw.activatedAt) ?? str(raw.createdAt),
        supersededAt: str(raw.supersededAt),
        metrics: m
          ? {
              window: num(m.window) ?? 0,
              brier: num(m.brier),
              meanPredicted: num(m.meanPredicted),
              observedRate: num(m.observedRate),
              other: Object.entries(m).flatMap(([k, v]): [string, number][] =>
                !KNOWN_METRICS.includes(k) &&
                !(holdout && HOLDOUT_METRICS.includes(k)) &&
                typeof v === "number"
                  ? [[k, v]]
                  : [],
              ),
            }
          : undefined,
        holdout,
        tiers: isObj(raw.tiers)
          ? { hot: num(raw.tiers.hot), warm: num(raw.tiers.warm), basis: str(raw.tiers.basis) }
          : undefined,
      },
    ];
  });
  const d = isObj(data) ? data : {};
  const next = d.nextCursor;
  return {
    items,
    nextCursor: typeof next === "string" || typeof next === "number" ? String(next) : null,
    active: num(d.active),
  };
}

/** One service's answer to a command (or the gateway's own, for a DLQ redrive). */
export type AuditResult = {
  service: string | undefined;
  result: string;
  detail: string | undefined;
  at: string | undefined;
};

/** One row of the audit log (`GET /api/audit`). */
export type AuditItem = {
  id: number;
  commandId: string;
  commandType: string;
  operator: string;
  role: string;
  subject: string;
  data: Json;
  at: string;
  /** The sum of the answers: published (still waiting), applied, refused, failed. */
  result: string;
  /** Each service's answer so far. */
  results: AuditResult[];
  /** The services it is meant for that have not answered yet. */
  awaiting: string[];
};

export type AuditPage = { items: AuditItem[]; nextCursor: string | null };

function auditResults(raw: Json): AuditResult[] {
  const list = Array.isArray(raw.confirmations)
    ? raw.confirmations
    : Array.isArray(raw.results)
      ? raw.results
      : undefined;
  if (list)
    return list.flatMap((r): AuditResult[] =>
      isObj(r) && str(r.result)
        ? [
            {
              service: str(r.service),
              result: str(r.result) ?? "",
              detail: str(r.detail),
              at: str(r.at),
            },
          ]
        : [],
    );
  return [];
}

export function auditPage(data: unknown): AuditPage {
  const items = listIn(data).flatMap((raw): AuditItem[] => {
    if (!isObj(raw)) return [];
    const id = num(raw.id) ?? Number(raw.id);
    if (!Number.isFinite(id)) return [];
    const result = str(raw.result) ?? "published";
    let results = auditResults(raw);
    // No per-service answers but a result of its own (a redrive, or an older gateway).
    if (results.length === 0 && result !== "published")
      results = [{ service: undefined, result, detail: str(raw.detail), at: str(raw.resultAt) }];
    return [
      {
        id,
        commandId: str(raw.commandId) ?? "",
        commandType: str(raw.commandType) ?? "",
        operator: str(raw.operator) ?? "—",
        role: str(raw.role) ?? "",
        subject: str(raw.subject) ?? "",
        data: isObj(raw.data) ? raw.data : {},
        at: str(raw.at) ?? "",
        result,
        results,
        awaiting: Array.isArray(raw.awaiting)
          ? raw.awaiting.filter((s): s is string => typeof s === "string")
          : [],
      },
    ];
  });
  const next = isObj(data) ? data.nextCursor : null;
  return {
    items,
    nextCursor: typeof next === "string" || typeof next === "number" ? String(next) : null,
  };
}

/** A variant the playbook editor can start from (from `GET /api/experiments`). */
export type KnownVariant = { variantId: string; segments: string[]; status: string };

export function knownVariants(data: unknown): KnownVariant[] {
  const byId = new Map<string, KnownVariant>();
  for (const seg of listIn(data, "segments")) {
    if (!isObj(seg)) continue;
    const segment = str(seg.segment) ?? "";
    for (const arm of listIn(seg.arms)) {
      if (!isObj(arm)) continue;
      const id = str(arm.variantId);
      if (!id) continue;
      const v = byId.get(id) ?? { variantId: id, segments: [], status: str(arm.status) ?? "" };
      if (segment) v.segments.push(segment);
      if (arm.status !== "retired") v.status = str(arm.status) ?? v.status;
      byId.set(id, v);
    }
  }
  return [...byId.values()].sort((a, b) => a.variantId.localeCompare(b.variantId));
}

/** A global switch as `GET /api/controls` reports it (the last applied command's state). */
export type SwitchState = {
  on: boolean;
  by: string | undefined;
  at: string | undefined;
  reason: string | undefined;
  /** Services that confirmed applying it / that have yet to / that refused it. */
  confirmedBy: string[];
  awaiting: string[];
  refusedBy: string[];
  /** A newer command no service has confirmed yet. */
  pending: { on: boolean; by: string | undefined; at: string | undefined } | undefined;
};

const names = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === "string") : [];

export function switchState(v: unknown, field: "engaged" | "enabled"): SwitchState {
  const s = isObj(v) ? v : {};
  const p = isObj(s.pending) ? s.pending : undefined;
  return {
    on: s[field] === true,
    by: str(s.by),
    at: str(s.at),
    reason: str(s.reason),
    confirmedBy: names(s.confirmedBy),
    awaiting: names(s.awaiting),
    refusedBy: names(s.refusedBy),
    pending: p ? { on: p[field] === true, by: str(p.by), at: str(p.at) } : undefined,
  };
}
