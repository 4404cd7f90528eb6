/** Every table, grouped by the service that owns it. */
export * from "./dispatch.ts";
export * from "./experiments.ts";
export * from "./gateway.ts";
export * from "./ingest.ts";
export * from "./messaging.ts";
export * from "./scoring.ts";
