/**
 * Scoring measured against a known truth (`pnpm sim:scoring`): the scoring service as
 * production starts it (`startScoring`, production's config parser and defaults, an
 * embedded database) is fed a world's leads — their CRM records, intent signals and
 * earlier engagement, as ingest publishes them — and, for each lead contacted, the
 * engine's settlement drawn from the lead's hidden true probability. Refits happen as in
 * production (`refitIfDue`, here after each batch instead of on a timer).
 *
 * At checkpoints, three models score the same held-out leads of the world — the hand-set
 * priors, the active (learned) version and the truth itself — and each gets AUC, log-loss
 * and expected calibration error against labels drawn once from the truth. An external
 * scorer (stackAI, when a flow is configured) is scored the same way at the end.
 */
import { seededRng as rngOf } from "@pw/bandit";
import { type Bus, createMemoryBus } from "@pw/bus";
import type { DbHandle } from "@pw/db";
import * as schema from "@pw/db/scoring";
import { envelope, type OutreachOutcome, type OutreachSettlement } from "@pw/events";
import { createLogger } from "@pw/logger";
import { openDatabase } from "@pw/service";
import { leadEvents, leadGenerator, type SimLead, type World } from "@pw/simulator";
import { createStackAiClient } from "@pw/stackai";
import { inArray } from "drizzle-orm";
import { scoringConfig } from "../src/config.ts";
import { INITIAL_WEIGHTS, sigmoid, type Weights } from "../src/model/builtin.ts";
import { auc, ece, logitOf, logLoss } from "../src/model/metrics.ts";
import { activeModel } from "../src/model-store.ts";
import { createStackAiScorer, type StackAiScorer } from "../src/stackai-scorer.ts";
import { startScoring } from "../src/start.ts";

export type Figures = { auc: number; logLoss: number; ece: number; meanPredicted: number };
export type Checkpoint = {
  /** Labelled sends scoring had seen. */
  labels: number;
  /** The active version then. */
  version: number;
  priors: Figures;
  learned: Figures;
  truth: Figures;
};
export type RefitRecord = { labels: number; version: number; outcome: string; verdict: string };
export type ScoringSimResult = {
  world: string;
  seed: number;
  /** The truth's rate over the evaluation leads (their labels' mean). */
  baseRate: number;
  checkpoints: Checkpoint[];
  refits: RefitRecord[];
  /** The external scorer on the evaluation leads, when one was configured. */
  stackai?: Figures & { scored: number; failed: number };
  seconds: number;
};

export type ScoringSimOptions = {
  seed: number;
  /** Labelled (contacted and settled) leads to feed. */
  labels: number;
  /** Held-out leads every model is scored on. */
  evalSize: number;
  /** Labels between checkpoints. */
  checkpointEvery: number;
  /** Leads per batch (scored, contacted and settled together). */
  batch: number;
  /** Scoring's environment (production's defaults for anything not set). */
  env?: Record<string, string | undefined>;
  onProgress?: (done: number, total: number, last: Checkpoint | undefined) => void;
};

export const DEFAULT_SIM: Omit<ScoringSimOptions, "seed"> = {
  labels: 10_000,
  evalSize: 20_000,
  checkpointEvery: 1_000,
  batch: 500,
};

/** AUC, log-loss and ECE of probabilities `p` against labels `y`. */
function figures(p: number[], y: (0 | 1)[]): Figures {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    auc: round(auc(p, y)),
    logLoss: round(logLoss(p, y)),
    ece: round(ece(p, y)),
    meanPredicted: round(p.reduce((n, x) => n + x, 0) / p.length),
  };
}

/** The scorer's view of a simulated lead at `now`: what extractFeatures reads. */
function scorerInput(lead: SimLead, now: Date) {
  const p = lead.profile;
  return {
    profile: {
      ...(p.title ? { title: p.title } : {}),
      industry: p.industry,
      employees: p.employees,
      country: p.country,
      ...(p.consent === false ? { consent: false } : {}),
    },
    signals: lead.signals.map((s) => ({
      kind: s.kind,
      occurredAt: new Date(now.getTime() - s.ageDays * 86_400_000),
    })),
    engagement: {
      ...(lead.engagement.opened ? { opened: lead.engagement.opened } : {}),
      ...(lead.engagement.clicked ? { clicked: lead.engagement.clicked } : {}),
    },
    now,
  };
}

/** The outcome events of a lead's earlier engagement (an open, a click), as ingest posts them. */
function engagementEvents(lead: SimLead, at: Date): OutreachOutcome[] {
  const kinds = [
    ...(lead.engagement.opened ? ["opened" as const] : []),
    ...(lead.engagement.clicked ? ["clicked" as const] : []),
  ];
  return kinds.map(
    (outcome) =>
      envelope({
        id: `${lead.id}:earlier:${outcome}`,
        type: "outreach.outcome.v1",
        source: "pw://sim",
        subject: lead.id,
        data: { outcome, occurredAt: at.toISOString() },
      }) as OutreachOutcome,
  );
}

function settlement(leadId: string, scoredEventId: string, rewarded: boolean, at: Date) {
  const requestId = `req_${scoredEventId}`;
  return envelope({
    id: `settled_${requestId}`,
    type: "outreach.settled.v1",
    source: "pw://sim",
    subject: leadId,
    data: {
      requestId,
      segment: "sim",
      variantId: "sim",
      scoredEventId,
      reward: "converted",
      rewarded,
      requestedAt: at.toISOString(),
      closedAt: at.toISOString(),
    },
  }) as OutreachSettlement;
}

export async function simulateScoring(
  world: World,
  o: ScoringSimOptions,
): Promise<ScoringSimResult> {
  const started = performance.now();
  const config = scoringConfig({
    PORT: "0",
    // Refits are run after each batch below (production checks on a timer).
    SCORING_REFIT_CHECK_SECONDS: "86400",
    ...o.env,
  });
  const db: DbHandle = await openDatabase({ driver: "pglite" });
  const bus: Bus = createMemoryBus();
  const running = await startScoring(
    { ...config, stackai: undefined },
    {
      bus,
      db,
      logger: createLogger({ service: "sim-scoring", level: "silent" }),
      listen: false,
    },
  );
  const service = running.service;
  const stackai: StackAiScorer | undefined = config.stackai
    ? createStackAiScorer(createStackAiClient(config.stackai))
    : undefined;
  try {
    /**
     * Leads into scoring as ingest would post them (their CRM record and intent signals,
     * then their earlier opens and clicks); returns, per lead, the last score scoring
     * emitted — what the engine decides on — with the features kept for it.
     */
    const feed = async (leads: SimLead[]) => {
      const at = new Date();
      const events = leads.flatMap((l) => leadEvents(l, { at }));
      for (let k = 0; k < events.length; k += 200)
        await service.handleLeadEvents(events.slice(k, k + 200));
      for (const l of leads)
        for (const e of engagementEvents(l, at)) await service.handleOutcome(e);
      const rows = await db.db
        .select({
          leadId: schema.examples.leadId,
          id: schema.examples.scoredEventId,
          at: schema.examples.scoredAt,
          x: schema.examples.features,
        })
        .from(schema.examples)
        .where(
          inArray(
            schema.examples.leadId,
            leads.map((l) => l.id),
          ),
        );
      const last = new Map<string, (typeof rows)[number]>();
      for (const r of rows) {
        const seen = last.get(r.leadId);
        if (!seen || r.at >= seen.at) last.set(r.leadId, r);
      }
      return last;
    };

    // The evaluation leads: drawn apart from the stream, scored by the service like any
    // lead (never contacted, so never labelled), labelled here once from the truth.
    const evalRng = rngOf(o.seed * 2_654_435_761 + 17);
    const evalLeads = leadGenerator(world, evalRng, { prefix: `eval-${o.seed}` });
    const now = new Date();
    const drawn = Array.from({ length: o.evalSize }, () => evalLeads.next());
    const scoredEval = new Map<string, Record<string, number>>();
    for (let k = 0; k < drawn.length; k += o.batch)
      for (const [id, r] of await feed(drawn.slice(k, k + o.batch))) scoredEval.set(id, r.x);
    const held = drawn.filter((l) => scoredEval.has(l.id));
    const y = held.map((l) => (evalRng() < l.trueP ? 1 : 0) as 0 | 1);
    const x = held.map((l) => scoredEval.get(l.id)!);
    const truthP = held.map((l) => l.trueP);
    const probabilities = (w: Weights) => x.map((xi) => sigmoid(logitOf(w, xi)));
    const priors = figures(probabilities(INITIAL_WEIGHTS), y);
    const truth = figures(truthP, y);

    const checkpoints: Checkpoint[] = [];
    const refits: RefitRecord[] = [];
    const checkpoint = async (labels: number) => {
      const active = await activeModel(db.db);
      const c = {
        labels,
        version: active.version,
        priors,
        learned: figures(probabilities(active.weights), y),
        truth,
      };
      checkpoints.push(c);
      return c;
    };
    await checkpoint(0);

    const rng = rngOf(o.seed);
    const stream = leadGenerator(world, rng, { prefix: `run-${o.seed}` });
    let labelled = 0;
    while (labelled < o.labels) {
      const n = Math.min(o.batch, o.labels - labelled);
      const leads = Array.from({ length: n }, () => stream.next());
      // Contacted on the last score scoring emitted for it.
      const decidedOn = await feed(leads);
      const settledAt = new Date();
      const settled = leads.flatMap((l) => {
        const on = decidedOn.get(l.id);
        return on ? [settlement(l.id, on.id, rng() < l.trueP, settledAt)] : [];
      });
      for (let k = 0; k < settled.length; k += 500)
        await service.handleSettlements(settled.slice(k, k + 500));
      labelled += n;
      const refit = await service.refitIfDue();
      if (refit.outcome === "promoted" || refit.outcome === "rejected")
        refits.push({
          labels: labelled,
          version: refit.version,
          outcome: refit.outcome,
          verdict: refit.verdict,
        });
      const due =
        Math.floor(labelled / o.checkpointEvery) > Math.floor((labelled - n) / o.checkpointEvery) ||
        labelled >= o.labels;
      const last = due ? await checkpoint(labelled) : undefined;
      o.onProgress?.(labelled, o.labels, last);
    }

    let vendor: ScoringSimResult["stackai"];
    if (stackai) {
      const p: number[] = [];
      const labels: (0 | 1)[] = [];
      let failed = 0;
      for (const [i, lead] of held.entries()) {
        const input = scorerInput(lead, now);
        try {
          const out = await stackai.score(lead.id, { leadId: lead.id, ...input });
          p.push(out.score / 100);
          labels.push(y[i]!);
        } catch {
          failed++;
        }
      }
      if (p.length > 0) vendor = { ...figures(p, labels), scored: p.length, failed };
    }
    return {
      world: world.name,
      seed: o.seed,
      baseRate: Math.round((y.reduce<number>((n, v) => n + v, 0) / y.length) * 10_000) / 10_000,
      checkpoints,
      refits,
      ...(vendor ? { stackai: vendor } : {}),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    await running.stop();
    await bus.close();
    await db.close();
  }
}
