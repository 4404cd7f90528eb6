/**
 * `startExperiments(config, deps?)`: the experiment engine as a service — scored leads
 * queued and drained under capacity into `outreach.requested.v1`, outcomes and dispatch
 * reports learned from, operator commands applied, windows settled and arms reviewed on
 * a clock. `main.ts`, the tests, `sim:engine` and the one-process demo all start it here.
 */
import type { Rng } from "@pw/bandit";
import * as schema from "@pw/db/experiments";
import { Topics } from "@pw/events";
import { runService, type SharedDeps } from "@pw/service";
import { createStackAiClient } from "@pw/stackai";
import { type ExperimentsConfig, experimentsConfig } from "./config.ts";
import { createCopywriter } from "./copywriter.ts";
import { engineBuilder, seedPlaybook } from "./engine.ts";
import { createIntentClassifier } from "./intent.ts";
import { engineGauges } from "./metrics.ts";
import { operatorBuilder } from "./operator.ts";

export type ExperimentsDeps = SharedDeps & {
  /** Tests and simulations: a seeded random source and a clock. */
  rng?: Rng;
  now?: () => Date;
};

export async function startExperiments(
  config: ExperimentsConfig = experimentsConfig({}),
  deps: ExperimentsDeps = {},
) {
  return runService({
    name: "experiments",
    config,
    deps,
    build: async (kit) => {
      await seedPlaybook(kit.db);
      const clients = {
        rewrite: config.stackai.rewrite && createStackAiClient(config.stackai.rewrite),
        intent: config.stackai.intent && createStackAiClient(config.stackai.intent),
      };
      kit.vendor("stackai_rewrite", clients.rewrite || undefined, "the template copy is sent");
      kit.vendor("stackai_intent", clients.intent || undefined, "replies are classified by rules");
      const { relay } = kit.messaging({
        outbox: schema.experimentsOutbox,
        inbox: schema.experimentsInbox,
      });
      const engine = engineBuilder({
        db: kit.db,
        settings: config,
        ...(deps.rng ? { rng: deps.rng } : {}),
        ...(deps.now ? { now: deps.now } : {}),
        copywriter: createCopywriter({
          stackai: clients.rewrite || undefined,
          logger: kit.logger.child({ component: "copywriter" }),
        }),
        intent: createIntentClassifier({
          stackai: clients.intent || undefined,
          logger: kit.logger.child({ component: "intent" }),
        }),
      });
      const operator = operatorBuilder({
        db: kit.db,
        capacityPerDay: config.capacity.perDay,
        auth: config.operatorCommands,
      });
      if (config.operatorCommands.keys.size === 0)
        kit.logger.warn(
          "OPERATOR_COMMAND_PUBLIC_KEYS is not set: every operator command (kill switch, approvals, playbook edits…) will be refused. Set it to keyId:<base64 SPKI Ed25519 public key> (comma-separated while rotating) — the gateway signs commands with the matching private key (docs/adr/0009-operator-command-auth.md).",
        );
      kit.beforeScrape(
        engineGauges(kit.metrics, kit.db, config.capacity.perDay, deps.now ?? (() => new Date())),
      );

      // One drain at a time per instance; a request during a drain runs one more after it.
      let draining: Promise<void> | undefined;
      let again = false;
      let stopped = false;
      const drain = (): Promise<void> => {
        if (stopped) return Promise.resolve();
        if (draining) {
          again = true;
          return draining;
        }
        draining = (async () => {
          try {
            do {
              again = false;
              const r = await engine.drain();
              if (r.requested + r.nurtured + r.pendingApproval > 0) relay.notify();
              for (const f of r.failed)
                kit.logger.warn(f, "decision failed; the lead is set aside with the reason");
              kit.logger.debug({ ...r, failed: r.failed.length }, "queue drained");
            } while (again && !stopped);
          } catch (error) {
            kit.logger.error({ err: error }, "drain failed; will retry on the next tick");
          } finally {
            draining = undefined;
          }
        })();
        return draining;
      };
      kit.onStop("drain", async () => {
        stopped = true;
        await draining;
      });

      await kit.subscribe({
        topic: Topics.leadScored,
        handler: async (event) => {
          const r = await engine.handleScored(event);
          if (r === "queued" || r === "updated") setImmediate(() => void drain());
          return r;
        },
      });
      await kit.subscribe({
        topic: Topics.outreachOutcomes,
        handler: (event) => engine.handleOutcome(event),
      });
      await kit.subscribe({
        topic: Topics.outreachDispatched,
        handler: (event) => engine.handleDispatched(event),
      });
      await kit.subscribe({
        topic: Topics.operatorCommands,
        handler: async (event, ctx) => {
          const r = await operator.handleCommand(event);
          if (r.result === "unauthenticated" || r.result === "rejected")
            ctx.log.warn(
              {
                commandType: event.type,
                result: r.result,
                reason: r.reason,
                ...(r.detail ? { detail: r.detail } : {}),
                // Unverified, it is only who the command claims to come from.
                [r.result === "unauthenticated" ? "claimedOperator" : "operator"]:
                  event.data.operator,
                ...(event.auth ? { keyId: event.auth.keyId } : {}),
              },
              "operator command refused",
            );
          if (r.result === "applied") setImmediate(() => void drain());
          return r.result;
        },
      });
      kit.every("settle-review", config.reviewEveryMs, async () => {
        await engine.settleExpired();
        await engine.review();
        relay.notify();
        await drain();
      });
      return { engine, operator, drain, relay };
    },
  });
}
export { experimentsConfig } from "./config.ts";
export type RunningExperiments = Awaited<ReturnType<typeof startExperiments>>;
