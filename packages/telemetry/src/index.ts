/** Sentry for every service: initialisation, the personal-data scrubber, spans, metrics, errors. */
export * from "./init.ts";
export * from "./scrub.ts";
export * from "./spans.ts";
