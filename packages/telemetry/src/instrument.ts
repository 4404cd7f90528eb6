/**
 * `node --import @pw/telemetry/instrument src/main.ts`: Sentry before the service's own
 * modules load (a no-op without SENTRY_DSN). A bad setting stops the process here, with
 * the variable named, like every other configuration error.
 */
import { initTelemetry, telemetrySettings } from "./init.ts";

initTelemetry(telemetrySettings(process.env));
