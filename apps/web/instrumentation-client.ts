// Sentry in the browser: a no-op unless NEXT_PUBLIC_SENTRY_DSN was set at build time.
import * as Sentry from "@sentry/nextjs";

const dsn = process.env.NEXT_PUBLIC_SENTRY_DSN;
if (dsn)
  Sentry.init({
    dsn,
    environment: process.env.NEXT_PUBLIC_PW_ENVIRONMENT ?? "production",
    // The services' default (ADR 0018): traces are samples, errors are not.
    tracesSampleRate: 0.01,
  });

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
