/** The experiment simulator: world files, the recipient model, and the policy comparison. */
export * from "./leads.ts";
export * from "./recipients.ts";
export * from "./reply-texts.ts";
export * from "./simulate.ts";
export * from "./time-queue.ts";
export * from "./traffic.ts";
export * from "./world.ts";
export * from "./world-outcomes.ts";
