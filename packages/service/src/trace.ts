/**
 * Trace context carried through a lead's journey: the W3C `traceparent` of the event
 * being handled is kept in async-local storage, so every event enqueued while handling
 * it continues the same trace (a new span id under the same trace id) without each
 * service threading it by hand. With Sentry on, the value is the span handling the event
 * (subscribe.ts, @pw/telemetry): the trace Sentry shows is the one the events carry.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";

/**
 * `traceparent`: the trace being handled. `spans`: the span handling each event (by event
 * id) while Sentry is on — what the events it causes continue from (a batch handles
 * several events, each in its own trace).
 */
const storage = new AsyncLocalStorage<{
  traceparent: string | undefined;
  spans?: ReadonlyMap<string, string>;
}>();
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function isTraceparent(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const m = TRACEPARENT.exec(value);
  // All-zero trace or span ids are invalid per W3C trace context; version ff is forbidden.
  return Boolean(m && m[1] !== "ff" && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!));
}

/** A new root: fresh trace id and span id, sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-01`;
}

/** The next hop of a trace: same trace id and flags, a new span id. */
export function childTraceparent(parent: string): string {
  const m = TRACEPARENT.exec(parent);
  if (!m) return newTraceparent();
  return `00-${m[2]}-${randomBytes(8).toString("hex")}-${m[4]}`;
}

/** Runs `fn` inside the trace `traceparent` (a new root when it is missing or invalid). */
export function withTrace<T>(
  traceparent: string | undefined,
  fn: () => T,
  spans?: ReadonlyMap<string, string>,
): T {
  return storage.run(
    {
      traceparent: isTraceparent(traceparent) ? traceparent : newTraceparent(),
      ...(spans ? { spans } : {}),
    },
    fn,
  );
}

/** Runs a batch's handler: no one trace is active, each event's span is known by its id. */
export function withEventSpans<T>(spans: ReadonlyMap<string, string>, fn: () => T): T {
  return storage.run({ traceparent: undefined, spans }, fn);
}

/** The trace being handled, if any. */
export function activeTraceparent(): string | undefined {
  return storage.getStore()?.traceparent;
}

/**
 * The traceparent for an event caused by `cause`: the span handling `cause` when Sentry is
 * on (so the next service's span is its child), else the next hop of its trace; none if
 * the cause had no trace.
 */
export function continueTrace(cause: {
  id?: string;
  traceparent?: string | undefined;
}): string | undefined {
  const span = cause.id === undefined ? undefined : storage.getStore()?.spans?.get(cause.id);
  if (span) return span;
  return isTraceparent(cause.traceparent) ? childTraceparent(cause.traceparent) : undefined;
}
