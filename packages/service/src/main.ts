/**
 * `runMain`: the few lines every `src/main.ts` shares. Starts the service, stops it on
 * SIGTERM/SIGINT, and turns a failed start (bad config, old schema, a dependency still
 * unreachable after STARTUP_WAIT_MS) or an unhandled rejection / uncaught exception into
 * one structured log line and a non-zero exit.
 */
import { ConfigError } from "@pw/config";
import { SchemaNotCurrentError } from "@pw/db";
import { createLogger } from "@pw/logger";
import { captureError, flushTelemetry } from "@pw/telemetry";
import { DependencyUnavailableError } from "./startup.ts";

export async function runMain(
  name: string,
  start: () => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  const log = createLogger({
    service: name,
    level: process.env.LOG_LEVEL === "silent" ? "silent" : "info",
  });
  const fail = (message: string, error: unknown) => {
    log.fatal({ err: error }, message);
    // To Sentry too (when it is on), grouped by what failed, then out.
    captureError(error, { fingerprint: ["fatal", name, message], tags: { "pw.service": name } });
    void flushTelemetry(2_000).finally(() => process.exit(1));
  };
  process.on("unhandledRejection", (error) => fail("unhandled rejection", error));
  process.on("uncaughtException", (error) => fail("uncaught exception", error));
  let running: { stop(): Promise<void> };
  try {
    running = await start();
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof SchemaNotCurrentError ||
      error instanceof DependencyUnavailableError
    ) {
      log.fatal({ reason: error.message }, `${name} cannot start`);
      process.exit(1);
    }
    return fail(`${name} failed to start`, error);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    await running.stop();
    // What Sentry still buffers (spans stream in batches) leaves before the process does.
    await flushTelemetry(5_000);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}
