/** Subscribes the engine to its topics, runs its outbox relay and the periodic settle + review. */
import { type Bus, subscribeTopic } from "@pw/bus";
import { createOutboxRelay, type Db, schema } from "@pw/db";
import { Topics } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { Engine } from "./engine.ts";
import type { operatorBuilder } from "./operator.ts";

export async function startExperiments(deps: {
  bus: Bus;
  db: Db;
  engine: Engine;
  operator: ReturnType<typeof operatorBuilder>;
  logger?: Logger;
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
  const subs = await Promise.all([
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.leadScored,
      handler: async (e) => {
        if ((await deps.engine.handleScored(e)) === "requested") relay.notify();
      },
    }),
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.outreachOutcomes,
      handler: async (e) => void (await deps.engine.handleOutcome(e)),
    }),
    subscribeTopic(deps.bus, {
      groupId,
      topic: Topics.operatorCommands,
      handler: async (e) => {
        if ((await deps.operator.handleCommand(e)) === "applied") relay.notify();
      },
    }),
  ]);
  relay.start();
  const timer = setInterval(() => {
    void (async () => {
      try {
        await deps.engine.settleExpired();
        if ((await deps.engine.review()).length > 0) relay.notify();
      } catch (error) {
        deps.logger?.error({ err: error }, "settle/review failed; will retry");
      }
    })();
  }, deps.reviewEveryMs ?? 60_000);
  timer.unref();
  return {
    relay,
    async stop() {
      clearInterval(timer);
      await Promise.all(subs.map((s) => s.close()));
      await relay.stop();
    },
  };
}
