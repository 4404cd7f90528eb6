// Sentry in the browser: a no-op unless NEXT_PUBLIC_SENTRY_DSN was set at build time.
import * as Sentry from "@sentry/nextjs";

const dsn = process.env.NEXT_PUBLIC_SENTRY_DSN;
if (dsn)
  Sentry.init({
    dsn,
    environment: process.env.NEXT_PUBLIC_PW_ENVIRONMENT ?? "production",
    tracesSampleRate: 0.1,
  });

export const onRouterTransitionStart = Sentry.captureRouterTransitionStart;
