/**
 * `node --import @pw/telemetry/instrument src/main.ts`: Sentry before the service's own
 * modules load (a no-op without SENTRY_DSN). A bad setting stops the process here, with
 * the variable named, like every other configuration error.
 */
import { initTelemetry, telemetrySettings } from "./init.ts";

try {
  initTelemetry(telemetrySettings(process.env));
} catch (error) {
  // One line, like the services' own configuration errors — not a loader's stack trace.
  process.stderr.write(`telemetry: ${(error as Error).message}\n`);
  process.exit(1);
}
