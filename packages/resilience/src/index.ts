/**
 * Resilience policies shared by every HTTP client and retry loop: jittered backoff,
 * Retry-After parsing, bounded retries, per-call timeouts, a circuit breaker (the last
 * two on cockatiel) and `isTransient`, which tells a dependency's outage from a failure
 * of the work itself. One implementation, so every vendor call and consumer in the
 * project backs off, gives up and fails fast the same way.
 */
export { type Backoff, backoffDelay } from "./backoff.ts";
export {
  type BreakerState,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  CircuitOpenError,
  createCircuitBreaker,
} from "./breaker.ts";
export { DEFAULT_MAX_RETRY_AFTER_MS, retryAfterMs } from "./retry-after.ts";
export {
  DEFAULT_BACKOFF,
  type RetryAfterHint,
  type RetryContext,
  type RetryEvent,
  type RetryOptions,
  retryAfterOf,
  retrying,
} from "./retrying.ts";
export { sleep } from "./sleep.ts";
export { TimeoutError, withTimeout } from "./timeout.ts";
export { errorChain, isTransient } from "./transient.ts";
