/**
 * The service kit: what every service needs, once — `runService` (parts started in order,
 * stopped in reverse within a grace period, never touching `process`), `runMain` (signals
 * and exit codes for `src/main.ts`), the ops routes, a typed outbox and its relay with
 * pruning, quarantine and lag in readiness, subscriptions with event-bound loggers and
 * trace context, and the heartbeat on `service.health.v1`.
 */

export type { Heartbeat } from "./heartbeat.ts";
export {
  type KitConfig,
  openDatabase,
  type RunningService,
  runService,
  type ServiceKit,
  type SharedDeps,
} from "./lifecycle.ts";
export { runMain } from "./main.ts";
export type { ServiceMetrics } from "./metrics.ts";
export type { Check, CheckResult, CheckStatus, Readiness } from "./ops.ts";
export {
  createRelay,
  DEFAULT_MAX_MESSAGE_BYTES,
  EventTooLargeError,
  InvalidEventError,
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
  withTrace,
} from "./trace.ts";
