/** Subscribes the scoring service to its topics and runs its outbox relay. */
import { type Bus, subscribeTopic } from "@pw/bus";
import { createOutboxRelay, type Db, schema } from "@pw/db";
import { Topics } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { ScoringMetrics } from "./http.ts";
import type { ScoringService } from "./service.ts";

export type ScoringHandlers = Pick<
  ScoringService,
  "handleLeadEvent" | "handleLeadEvents" | "handleOutcome"
>;

export async function startScoring(deps: {
  bus: Bus;
  db: Db;
  service: ScoringHandlers;
  logger?: Logger;
  groupId?: string;
  metrics?: ScoringMetrics;
}) {
  const groupId = deps.groupId ?? "scoring";
  const relay = createOutboxRelay({
    db: deps.db,
    table: schema.scoringOutbox,
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
  const leadEvents = await subscribeTopic(deps.bus, {
    groupId,
    topic: Topics.leadEvents,
    handler: async (event) => {
      const outcome = await deps.service.handleLeadEvent(event);
      deps.metrics?.events.inc({ topic: Topics.leadEvents, outcome });
      deps.metrics?.batchSize.observe(1);
      if (outcome === "emitted") relay.notify();
    },
    // Runs of a partition's events share one transaction.
    batch: {
      maxSize: 200,
      handler: async (items) => {
        const outcomes = await deps.service.handleLeadEvents(items.map((i) => i.event));
        deps.metrics?.batchSize.observe(items.length);
        for (const outcome of outcomes)
          deps.metrics?.events.inc({ topic: Topics.leadEvents, outcome });
        if (outcomes.includes("emitted")) relay.notify();
      },
    },
  });
  const outcomes = await subscribeTopic(deps.bus, {
    groupId,
    topic: Topics.outreachOutcomes,
    handler: async (event) => {
      const outcome = await deps.service.handleOutcome(event);
      deps.metrics?.events.inc({ topic: Topics.outreachOutcomes, outcome });
      if (outcome === "emitted") relay.notify();
    },
  });
  relay.start();
  return {
    subscriptions: [leadEvents, outcomes],
    relay,
    async stop() {
      await Promise.all([leadEvents.close(), outcomes.close()]);
      await relay.stop();
    },
    /** For tests: die without finishing or committing. */
    async crash() {
      await Promise.all([leadEvents.crash(), outcomes.crash()]);
      await relay.stop();
    },
  };
}
