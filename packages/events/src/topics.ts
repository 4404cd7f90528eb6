/**
 * Topic names in one place, each with the schema its messages are decoded with.
 * A consumer never guesses: it gets the topic's schema from here.
 */
import type { z } from "zod";
import { LeadConsent } from "./consent.ts";
import { ExperimentUpdate } from "./experiments.ts";
import { LeadEvent } from "./lead-events.ts";
import { LeadScored } from "./lead-scored.ts";
import { ModelUpdate } from "./model-updates.ts";
import { OperatorCommand } from "./operator-commands.ts";
import { OperatorCommandResult } from "./operator-results.ts";
import { OutreachDispatched, OutreachOutcome, OutreachRequested } from "./outreach.ts";
import { ServiceHealth } from "./service-health.ts";
import { OutreachSettlement } from "./settlements.ts";

export const Topics = {
  leadEvents: "lead.events.v1",
  leadScored: "lead.scored.v1",
  outreachRequested: "outreach.requested.v1",
  outreachDispatched: "outreach.dispatched.v1",
  outreachOutcomes: "outreach.outcomes.v1",
  outreachSettlements: "outreach.settlements.v1",
  experimentUpdates: "experiment.updates.v1",
  operatorCommands: "operator.commands.v1",
  operatorCommandResults: "operator.command_results.v1",
  modelUpdates: "model.updates.v1",
  leadConsent: "lead.consent.v1",
  serviceHealth: "service.health.v1",
} as const;
export type TopicName = (typeof Topics)[keyof typeof Topics];

export const TopicSchemas = {
  "lead.events.v1": LeadEvent,
  "lead.scored.v1": LeadScored,
  "outreach.requested.v1": OutreachRequested,
  "outreach.dispatched.v1": OutreachDispatched,
  "outreach.outcomes.v1": OutreachOutcome,
  "outreach.settlements.v1": OutreachSettlement,
  "experiment.updates.v1": ExperimentUpdate,
  "operator.commands.v1": OperatorCommand,
  "operator.command_results.v1": OperatorCommandResult,
  "model.updates.v1": ModelUpdate,
  "lead.consent.v1": LeadConsent,
  "service.health.v1": ServiceHealth,
} as const satisfies Record<TopicName, z.ZodType>;

export type TopicEvent<T extends TopicName> = z.infer<(typeof TopicSchemas)[T]>;

export const ALL_TOPICS = Object.values(Topics) as TopicName[];

/**
 * Topics about the running system rather than leads (heartbeats): ephemeral, so the
 * gateway does not project them into its read model, and the kit creates them with a
 * short retention (OPS_TOPIC_CONFIG).
 */
export const OPS_TOPICS: readonly TopicName[] = [Topics.serviceHealth];
/** Topic configs for OPS_TOPICS: a heartbeat older than an hour is of no use to anyone. */
export const OPS_TOPIC_CONFIG: Record<string, string> = { "retention.ms": "3600000" };

/** Where a consumer parks messages it could not handle: never silently dropped. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}
