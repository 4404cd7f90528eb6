/** The experiment simulator: world files, the recipient model, the policy comparison, and synthetic leads for the scorer. */
export * from "./lead-model.ts";
export * from "./leads.ts";
export * from "./recipients.ts";
export * from "./reply-texts.ts";
export * from "./sim-lead-events.ts";
export * from "./simulate.ts";
export * from "./time-queue.ts";
export * from "./traffic.ts";
export * from "./world.ts";
export * from "./world-leads.ts";
export * from "./world-outcomes.ts";
