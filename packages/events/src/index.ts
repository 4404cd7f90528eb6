/** Contracts of every topic: envelope, event schemas, topic names. */
export * from "./command-auth.ts";
export * from "./consent.ts";
export * from "./envelope.ts";
export * from "./experiments.ts";
export * from "./lead-events.ts";
export * from "./lead-scored.ts";
export * from "./lightfield.ts";
export * from "./model-updates.ts";
export * from "./operator-commands.ts";
export * from "./operator-results.ts";
export * from "./outreach.ts";
export * from "./service-health.ts";
export * from "./settlements.ts";
export * from "./templates.ts";
export * from "./topics.ts";
export * from "./unsubscribe-token.ts";
