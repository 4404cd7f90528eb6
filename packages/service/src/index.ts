/**
 * The service kit: what every service needs, once — `runService` (parts started in order,
 * stopped in reverse within a grace period, never touching `process`), `runMain` (signals
 * and exit codes for `src/main.ts`), the ops routes, a typed outbox and its relay with
 * pruning, quarantine and lag in readiness, subscriptions with event-bound loggers and
 * trace context.
 */
export {
  type KitConfig,
  openDatabase,
  type RunningService,
  runService,
  type ServiceKit,
  type SharedDeps,
} from "./lifecycle.ts";
export { runMain } from "./main.ts";
export { createServiceMetrics, type ServiceMetrics } from "./metrics.ts";
export {
  type Check,
  type CheckResult,
  type CheckStatus,
  type Readiness,
  readiness,
} from "./ops.ts";
export {
  createRelay,
  DEFAULT_MAX_MESSAGE_BYTES,
  EventTooLargeError,
  InvalidEventError,
  messageBytes,
  type OutboxRelay,
  type TypedOutbox,
  typedOutbox,
} from "./outbox.ts";
export { DependencyUnavailableError } from "./startup.ts";
export type { EventContext, Handled, SubscriptionSpec } from "./subscribe.ts";
export {
  activeTraceparent,
  childTraceparent,
  continueTrace,
  isTraceparent,
  newTraceparent,
  traceIdOf,
  withTrace,
} from "./trace.ts";
