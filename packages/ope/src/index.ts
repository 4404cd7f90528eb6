/** Off-policy evaluation of candidate experiment policies on logged decisions (IPS / SNIPS). */
export * from "./candidates.ts";
export * from "./db-source.ts";
export * from "./decision-log.ts";
export * from "./estimators.ts";
export * from "./evaluate.ts";
export * from "./published.ts";
export * from "./simulate.ts";
