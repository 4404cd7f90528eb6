/** The topics the gateway streams (each SSE frame is named after its topic). */
export const TOPICS = {
  leadEvents: "lead.events.v1",
  leadScored: "lead.scored.v1",
  outreachRequested: "outreach.requested.v1",
  outreachDispatched: "outreach.dispatched.v1",
  outreachOutcomes: "outreach.outcomes.v1",
  experimentUpdates: "experiment.updates.v1",
  operatorCommands: "operator.commands.v1",
  operatorCommandResults: "operator.command_results.v1",
  modelUpdates: "model.updates.v1",
  leadConsent: "lead.consent.v1",
  serviceHealth: "service.health.v1",
} as const;
export const ALL_STREAM_TOPICS: string[] = Object.values(TOPICS);

/** One row of the live stream (the gateway's `StreamRow`). */
export type StreamRow = {
  seq: number;
  topic: string;
  type: string;
  subject: string;
  at: string;
  data: Record<string, unknown>;
};
