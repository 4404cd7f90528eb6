// A circuit breaker (cockatiel's CircuitBreakerPolicy + ConsecutiveBreaker): after
// `failureThreshold` consecutive failures it fails every call fast for `cooldownMs`, then
// lets one probe through; the probe's outcome closes or re-opens it.
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  isBrokenCircuitError,
} from "cockatiel";

export type BreakerState = "closed" | "open" | "half_open";

export type CircuitBreakerOptions = {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long it stays open before one probe may go through. */
  cooldownMs: number;
  /** Which errors count as failures. Default: all. Others pass through uncounted. */
  isFailure?: (error: unknown) => boolean;
};

/** Thrown instead of calling while the circuit is open (or a half-open probe is in flight). */
export class CircuitOpenError extends Error {
  constructor(message = "circuit breaker is open") {
    super(message);
    this.name = "CircuitOpenError";
  }
}

const STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: "closed",
  [CircuitState.Open]: "open",
  [CircuitState.HalfOpen]: "half_open",
  [CircuitState.Isolated]: "open",
};

export function createCircuitBreaker(options: CircuitBreakerOptions) {
  const policy = circuitBreaker(handleWhen(options.isFailure ?? (() => true)), {
    halfOpenAfter: options.cooldownMs,
    breaker: new ConsecutiveBreaker(options.failureThreshold),
  });
  let openedAt = 0;
  policy.onBreak(() => {
    openedAt = Date.now();
  });

  /**
   * `half_open` as soon as the cooldown has passed (cockatiel itself only moves there
   * when the next call arrives), so health endpoints show that a probe is due.
   */
  function state(): BreakerState {
    if (policy.state === CircuitState.Open && Date.now() - openedAt >= options.cooldownMs)
      return "half_open";
    return STATES[policy.state];
  }

  return {
    state,
    /** Runs `fn` through the breaker; throws `CircuitOpenError` without calling it when open. */
    async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
      // cockatiel parks callers behind a half-open probe until it settles; fail them fast
      // instead, so a probe against a hung dependency cannot queue every caller behind it.
      if (policy.state === CircuitState.HalfOpen)
        throw new CircuitOpenError("circuit breaker is half-open (probe in flight)");
      try {
        return await policy.execute((context) => fn(context.signal), signal);
      } catch (error) {
        if (isBrokenCircuitError(error)) throw new CircuitOpenError();
        throw error;
      }
    },
    /** Subscribes to transitions (for logs and metrics); returns the unsubscribe function. */
    onStateChange(listener: (state: BreakerState) => void): () => void {
      const subscription = policy.onStateChange((s) => listener(STATES[s]));
      return () => subscription.dispose();
    },
  };
}
export type CircuitBreaker = ReturnType<typeof createCircuitBreaker>;
