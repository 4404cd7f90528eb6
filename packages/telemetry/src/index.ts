/** Sentry for every service: initialisation, the personal-data scrubber, spans, metrics, errors. */

export { businessMetrics } from "./business.ts";
export * from "./init.ts";
export * from "./scrub.ts";
export * from "./spans.ts";
