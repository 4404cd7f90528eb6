// Sentry on the dashboard's server side (route handlers, server rendering): a no-op
// without SENTRY_DSN. Secrets never reach events: request bodies and cookies are not sent.
import { PRIVACY_OPTIONS } from "@pw/telemetry/scrub";
import * as Sentry from "@sentry/nextjs";

export async function register() {
  const dsn = process.env.SENTRY_DSN;
  if (!dsn) return;
  Sentry.init({
    dsn,
    environment: process.env.PW_ENVIRONMENT ?? "production",
    tracesSampleRate: Number(process.env.SENTRY_TRACES_SAMPLE_RATE ?? "0.01"),
    // The services' scrubber, last: no address, name or message text leaves (ADR 0018).
    ...PRIVACY_OPTIONS,
  });
}

export const onRequestError = Sentry.captureRequestError;
