/**
 * A starting service waits for its database and broker: an unreachable dependency (not up
 * yet, restarting, a network blip) is retried with backoff and one structured log line per
 * attempt, up to STARTUP_WAIT_MS. A deterministic failure (a schema that is not current,
 * bad credentials, a database that does not exist) fails at once: waiting will not fix it.
 */
import type { Logger } from "@pw/logger";
import { isTransient, retrying } from "@pw/resilience";
import { reasonOf } from "./reason.ts";

/**
 * A dependency the service could not use at start (runMain: one line, exit 1): still
 * unreachable after STARTUP_WAIT_MS, or refusing it for good (bad credentials, a database
 * that does not exist, a denied ACL), which no wait would fix.
 */
export class DependencyUnavailableError extends Error {
  readonly dependency: string;
  readonly waitedMs: number;
  constructor(dependency: string, waitedMs: number, cause: unknown) {
    super(
      isTransient(cause)
        ? `${dependency} still unreachable after ${Math.round(waitedMs / 1000)} s (STARTUP_WAIT_MS): ${reasonOf(cause)}`
        : `${dependency} refuses this service: ${reasonOf(cause)}`,
      { cause },
    );
    this.name = "DependencyUnavailableError";
    this.dependency = dependency;
    this.waitedMs = waitedMs;
  }
}

/** `connect` only reaches the dependency: every failure of it is the dependency's. */
export async function whenReachable<T>(
  dependency: string,
  connect: () => Promise<T>,
  options: { waitMs: number; logger: Logger },
): Promise<T> {
  const started = Date.now();
  try {
    return await retrying(() => connect(), {
      attempts: Number.POSITIVE_INFINITY,
      backoff: { initialMs: 250, maxMs: 5_000 },
      retryable: (error) => isTransient(error) && Date.now() - started < options.waitMs,
      onRetry: ({ attempt, delayMs, error }) =>
        options.logger.warn(
          { dependency, attempt, retryInMs: delayMs, reason: reasonOf(error) },
          `${dependency} not reachable yet; retrying`,
        ),
    });
  } catch (error) {
    throw new DependencyUnavailableError(dependency, Date.now() - started, error);
  }
}
