/**
 * Subscribes the engine to its topics, runs its outbox relay, drains the queue of
 * scored leads (soon after they arrive, and on a clock so a new day's capacity or
 * a released kill switch is used), and the periodic settle + review.
 */
import { type Bus, subscribeTopic } from "@pw/bus";
import { createOutboxRelay, type Db, schema } from "@pw/db";
import { Topics } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { Engine } from "./engine.ts";
import type { ExperimentMetrics } from "./http.ts";
import type { operatorBuilder } from "./operator.ts";

export async function startExperiments(deps: {
  bus: Bus;
  db: Db;
  engine: Engine;
  operator: ReturnType<typeof operatorBuilder>;
  logger?: Logger;
  metrics?: ExperimentMetrics;
  groupId?: string;
  /** How often windows are settled and arms reviewed for suppression. */
  reviewEveryMs?: number;
}) {
  const groupId = deps.groupId ?? "experiments";
  const relay = createOutboxRelay({
    db: deps.db,
    table: schema.experimentsOutbox,
    pollIntervalMs: 50,
    logger: deps.logger,
    publish: async (records) => {
      const byTopic = new Map<string, typeof records>();
      for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      await Promise.all(
        [...byTopic].map(([topic, rs]) =>
          deps.bus.publish(
            topic,
            rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
          ),
        ),
      );
    },
  });
  const count = (topic: string, result: string) => deps.metrics?.events.inc({ topic, result });
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
          const r = await deps.engine.drain();
          if (r.requested + r.nurtured + r.pendingApproval > 0) relay.notify();
          deps.logger?.debug(r, "queue drained");
        } while (again && !stopped);
      } catch (error) {
        deps.logger?.error({ err: error }, "drain failed; will retry on the next tick");
      } finally {
        draining = undefined;
      }
    })();
    return draining;
  };
  const subs = await Promise.all([
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.leadScored,
      handler: async (e) => {
        const r = await deps.engine.handleScored(e);
        count(Topics.leadScored, r);
        if (r === "queued" || r === "updated") setImmediate(() => void drain());
      },
    }),
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.outreachOutcomes,
      handler: async (e) => count(Topics.outreachOutcomes, await deps.engine.handleOutcome(e)),
    }),
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.outreachDispatched,
      handler: async (e) => count(Topics.outreachDispatched, await deps.engine.handleDispatched(e)),
    }),
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.operatorCommands,
      handler: async (e) => {
        const r = await deps.operator.handleCommand(e);
        count(Topics.operatorCommands, r);
        if (r === "applied") {
          relay.notify();
          setImmediate(() => void drain());
        }
      },
    }),
  ]);
  relay.start();
  const timer = setInterval(() => {
    void (async () => {
      try {
        await deps.engine.settleExpired();
        await deps.engine.review();
        relay.notify();
        await drain();
      } catch (error) {
        deps.logger?.error({ err: error }, "settle/review failed; will retry");
      }
    })();
  }, deps.reviewEveryMs ?? 60_000);
  timer.unref();
  return {
    relay,
    drain,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await draining;
      await Promise.all(subs.map((s) => s.close()));
      await relay.stop();
    },
  };
}
