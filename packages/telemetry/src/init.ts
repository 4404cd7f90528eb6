/**
 * Sentry, initialised once per process before anything else is imported (instrument.ts,
 * run with `node --import @pw/telemetry/instrument`): Node ESM gives OpenTelemetry's
 * auto-instrumentation no other chance to patch modules. Without `SENTRY_DSN` nothing is
 * initialised and nothing else changes. Personal data stays home: user info, cookies,
 * headers, bodies and query strings are not collected, and every event, span, log,
 * metric and breadcrumb passes the scrubber (scrub.ts) last.
 */
import * as Sentry from "@sentry/node";
import { PRIVACY_OPTIONS } from "./scrub.ts";

export const DEFAULT_TRACES_SAMPLE_RATE = 0.01;

export type TelemetrySettings = {
  dsn: string;
  environment: string;
  release: string;
  tracesSampleRate: number;
  serverName?: string;
};

/** The settings from the environment, or undefined when no DSN is set (telemetry off). */
export function telemetrySettings(
  env: Record<string, string | undefined>,
): TelemetrySettings | undefined {
  const dsn = env.SENTRY_DSN?.trim();
  if (!dsn) return undefined;
  // Traces are samples (errors and metrics are complete): 1% of journeys by default
  // (pnpm bench:telemetry; ADR 0018).
  const rate =
    env.SENTRY_TRACES_SAMPLE_RATE === undefined
      ? DEFAULT_TRACES_SAMPLE_RATE
      : Number(env.SENTRY_TRACES_SAMPLE_RATE);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    throw new Error(
      `SENTRY_TRACES_SAMPLE_RATE: "${env.SENTRY_TRACES_SAMPLE_RATE}" is not a number in [0, 1]`,
    );
  return {
    dsn,
    environment: env.SENTRY_ENVIRONMENT ?? env.NODE_ENV ?? "development",
    release: env.SENTRY_RELEASE ?? "pipeline-whisperer@dev",
    tracesSampleRate: rate,
    ...(env.SERVICE_NAME ? { serverName: env.SERVICE_NAME } : {}),
  };
}

/**
 * The SDK's integrations kept: errors and their context, HTTP in and out (a caller's trace
 * continued, vendor calls traced), Fastify's routes. Left out: the database and broker
 * auto-instrumentations (a span per query and per message cost throughput on every event,
 * sampled or not — the kit's own span per event is the journey), and the rest (other
 * frameworks, AI SDKs, console breadcrumbs).
 */
export const KEPT_INTEGRATIONS = new Set([
  "EventFilters",
  "FunctionToString",
  "LinkedErrors",
  "RequestData",
  "NodeSystemError",
  "Http",
  "NodeFetch",
  "OnUncaughtException",
  "OnUnhandledRejection",
  "ContextLines",
  "Context",
  "Modules",
  "Fastify",
]);

/** Set on a new journey's first span the kit drew to keep (spans.ts). */
export const HEAD_SAMPLED = "pw.head_sampled";

let active = false;
let sampleRate = 0;

/** Whether Sentry was initialised in this process. */
export const telemetryEnabled = () => active;

/** The share of journeys traced (0 while telemetry is off). */
export const tracesSampleRate = () => sampleRate;

/** Initialises Sentry once; a second call, or one without settings, does nothing. */
export function initTelemetry(settings: TelemetrySettings | undefined): boolean {
  if (!settings || active) return active;
  Sentry.init({
    dsn: settings.dsn,
    environment: settings.environment,
    release: settings.release,
    // A journey's own decision when it has one (the parent's flag); a new journey the kit
    // drew for already (spans.ts, `pw.head_sampled`) is kept; anything else at the rate.
    tracesSampler: ({ attributes, inheritOrSampleWith }) =>
      attributes?.[HEAD_SAMPLED] === true ? 1 : inheritOrSampleWith(settings.tracesSampleRate),
    ...(settings.serverName ? { serverName: settings.serverName } : {}),
    integrations: (defaults) => defaults.filter((i) => KEPT_INTEGRATIONS.has(i.name)),
    ...PRIVACY_OPTIONS,
  });
  active = true;
  sampleRate = settings.tracesSampleRate;
  return true;
}
