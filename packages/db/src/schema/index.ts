/** Every table, for drizzle-kit (drizzle.config.ts). Services import their own from `@pw/db/<owner>`. */
export * from "./agent.ts";
export * from "./dispatch.ts";
export * from "./experiments.ts";
export * from "./gateway.ts";
export * from "./ingest.ts";
export * from "./messaging.ts";
export * from "./scoring.ts";
