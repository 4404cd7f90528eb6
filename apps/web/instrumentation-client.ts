// Sentry in the browser: a no-op unless NEXT_PUBLIC_SENTRY_DSN was set at build time.
import { PRIVACY_OPTIONS } from "@pw/telemetry/scrub";
import * as Sentry from "@sentry/nextjs";

const dsn = process.env.NEXT_PUBLIC_SENTRY_DSN;
if (dsn)
  Sentry.init({
    dsn,
    environment: process.env.NEXT_PUBLIC_PW_ENVIRONMENT ?? "production",
    // The services' default (ADR 0018): traces are samples, errors are not.
    tracesSampleRate: 0.01,
    // The services' scrubber, last: lead pages show addresses and names; Sentry gets none.
    ...PRIVACY_OPTIONS,
  });

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
