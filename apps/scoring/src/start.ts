/**
 * `startScoring(config, deps?)`: the scoring service — lead profiles and explainable
 * scores from `lead.events.v1` and `outreach.outcomes.v1`, `lead.scored.v1` out through
 * the outbox; labels from the engine's settlements (`outreach.settlements.v1`) and refits
 * every so many of them (ADR 0017); model versions announced on `model.updates.v1`; operator model rollbacks
 * from `operator.commands.v1`, confirmed on `operator.command_results.v1`. `main.ts`, the
 * tests, the benchmark and the one-process demo all start it here.
 */
import * as schema from "@pw/db/scoring";
import { Topics } from "@pw/events";
import { runService, type SharedDeps } from "@pw/service";
import { createStackAiClient } from "@pw/stackai";
import { countMetric, distributionMetric } from "@pw/telemetry";
import { type ScoringConfig, scoringConfig } from "./config.ts";
import { pruneExamples } from "./labels.ts";
import { ensureInitialModel } from "./model-store.ts";
import { type ScoringService, scoringServiceBuilder } from "./service.ts";
import { createStackAiScorer } from "./stackai-scorer.ts";

export type ScoringHandlers = Pick<
  ScoringService,
  | "handleLeadEvent"
  | "handleLeadEvents"
  | "handleOutcome"
  | "handleOutcomes"
  | "handleSettlement"
  | "handleSettlements"
>;

export type ScoringDeps = SharedDeps & {
  /** Tests only: wraps the handlers (fault injection). */
  wrapHandlers?: (service: ScoringService) => ScoringHandlers;
};

export async function startScoring(
  config: ScoringConfig = scoringConfig({}),
  deps: ScoringDeps = {},
) {
  return runService({
    name: "scoring",
    config,
    deps,
    build: async (kit) => {
      await ensureInitialModel(kit.db);
      const stackai = config.stackai ? createStackAiClient(config.stackai) : undefined;
      kit.vendor("stackai", stackai, "the built-in model scores");
      const scores = kit.metrics.counter(
        "pw_scoring_scores_total",
        "Scores computed, by scorer and whether it was a fallback",
        ["scorer", "fallback"],
      );
      kit.messaging({
        outbox: schema.scoringOutbox,
        inbox: schema.scoringInbox,
      });
      if (config.operatorCommands.keys.size === 0)
        kit.logger.warn(
          "OPERATOR_COMMAND_PUBLIC_KEYS is not set: operator commands (model rollback) will be refused by scoring (docs/adr/0009-operator-command-auth.md).",
        );
      const service = scoringServiceBuilder({
        db: kit.db,
        commandAuth: config.operatorCommands,
        stackai: stackai ? createStackAiScorer(stackai) : undefined,
        logger: kit.logger,
        refit: config.refit,
        onScore: (scorer, fallback, scored) => {
          scores.inc({ scorer, fallback: String(fallback) });
          countMetric("pw.scores", 1, { scorer, fallback });
          distributionMetric("pw.score", scored.score, { scorer, tier: scored.tier }, "percent");
        },
      });
      const handlers = deps.wrapHandlers?.(service) ?? service;
      const subscriptions = [
        await kit.subscribe({
          topic: Topics.leadEvents,
          handler: (event) => handlers.handleLeadEvent(event),
          // Runs of a partition's events share one transaction.
          batch: { maxSize: 200, handler: (events) => handlers.handleLeadEvents(events) },
        }),
        await kit.subscribe({
          topic: Topics.outreachOutcomes,
          handler: (event) => handlers.handleOutcome(event),
          batch: { maxSize: 200, handler: (events) => handlers.handleOutcomes(events) },
        }),
        await kit.subscribe({
          topic: Topics.outreachSettlements,
          handler: (event) => handlers.handleSettlement(event),
          batch: { maxSize: 500, handler: (events) => handlers.handleSettlements(events) },
        }),
        await kit.subscribe({
          topic: Topics.operatorCommands,
          handler: async (event, ctx) => {
            const r = await service.handleCommand(event);
            if (r.result === "unauthenticated" || r.result === "rejected")
              ctx.log.warn(
                {
                  commandType: event.type,
                  result: r.result,
                  reason: r.reason,
                  ...(r.detail ? { detail: r.detail } : {}),
                  [r.result === "unauthenticated" ? "claimedOperator" : "operator"]:
                    event.data.operator,
                },
                "operator command refused",
              );
            return r.result;
          },
        }),
      ];
      // Whether enough sends were labelled for a refit: checked apart from every event.
      kit.every("refit", config.refit.checkEveryMs, async () => {
        await service.refitIfDue();
      });
      // Examples no settlement can label any more, and labels older than a refit reads.
      kit.every("prune-examples", 3_600_000, async () => {
        const pruned = await pruneExamples(kit.db, new Date());
        if (pruned > 0) kit.logger.debug({ pruned }, "pruned scoring examples");
      });
      return {
        service,
        subscriptions,
        /** Tests: leave as a killed process would (nothing finished or committed). */
        async crash() {
          await Promise.all(subscriptions.map((s) => s.crash()));
        },
      };
    },
  });
}
export { scoringConfig } from "./config.ts";
export type RunningScoring = Awaited<ReturnType<typeof startScoring>>;
