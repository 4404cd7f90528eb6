/** The experiment simulator: world files and the policy comparison. */
export * from "./simulate.ts";
export * from "./world.ts";
