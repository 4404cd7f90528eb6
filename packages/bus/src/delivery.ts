/**
 * What both adapters do with one message: decode, call the handler, and decide what a
 * failure means (ADR 0008). A transient failure (the dependency is down) is retried
 * without bound while the partition waits and the subscription reports itself stalled;
 * a deterministic one (poison, NonRetryableError, a validation error, or anything else
 * `maxAttempts` times) parks the message in the DLQ. Shared so that the two adapters
 * cannot drift apart in semantics.
 */
import { dlqTopic } from "@pw/events";
import { type Logger, redactText } from "@pw/logger";
import {
  type Backoff,
  backoffDelay,
  DEFAULT_BACKOFF,
  errorChain,
  isTransient,
  sleep,
} from "@pw/resilience";
import { ZodError } from "zod";
import {
  type Headers,
  type IncomingMessage,
  NonRetryableError,
  type OutgoingMessage,
  PoisonMessageError,
  type SubscribeOptions,
  type SubscriptionHealth,
} from "./types.ts";

export const DEFAULT_MAX_ATTEMPTS = 5;
/** A stalled partition logs its first failure, then one line per this many attempts. */
const STALL_LOG_EVERY = 20;

export type DeliveryOutcome =
  | { status: "handled" }
  | { status: "dead-lettered"; error: string }
  | { status: "aborted" };

/** Why a message was parked: the `dlq-reason` header. */
export type DlqReason = "poison" | "non-retryable" | "validation" | "attempts-exhausted";

/** One partition's line to its subscription's health. */
export type StallReporter = {
  stalled(reason: string): void;
  recovered(): void;
};

export type DeliveryDeps = {
  /** Publishes to the DLQ; must resolve only once acknowledged. */
  publish: (topic: string, messages: OutgoingMessage[]) => Promise<void>;
  /** False once the member is closing/crashed/revoked: stop retrying, do not commit. */
  isActive: () => boolean;
  /** Called between attempts (Kafka: heartbeat so the group does not evict us). */
  beforeRetry?: () => Promise<void>;
  /** Told when this partition starts and stops waiting on a transient failure. */
  stall?: StallReporter;
  log?: Logger;
};

/**
 * A subscription's health from its partitions' stalls: "stalled" while any partition is
 * held by a transient failure, showing the oldest stall (the longest-held partition).
 */
export function stallTracker() {
  const stalls = new Map<number, { since: number; reason: string }>();
  return {
    partition(partition: number): StallReporter {
      return {
        stalled(reason) {
          const since = stalls.get(partition)?.since ?? Date.now();
          stalls.set(partition, { since, reason });
        },
        recovered() {
          stalls.delete(partition);
        },
      };
    },
    health(): SubscriptionHealth {
      let oldest: { since: number; reason: string } | undefined;
      for (const s of stalls.values()) if (!oldest || s.since < oldest.since) oldest = s;
      return oldest ? { status: "stalled", ...oldest } : { status: "ok" };
    },
  };
}

/**
 * What a failure means for delivery. Deterministic wins over transient: a handler that
 * wraps a connection error in a NonRetryableError has decided.
 */
export function classifyFailure(error: unknown): "deterministic" | "transient" | "unknown" {
  const chain = errorChain(error);
  if (chain.some((e) => e instanceof NonRetryableError || isValidationError(e)))
    return "deterministic";
  return isTransient(error) ? "transient" : "unknown";
}

function isValidationError(e: unknown): boolean {
  // By name too: a second copy of zod in a handler's dependencies is another class.
  return e instanceof ZodError || (e instanceof Error && e.name === "ZodError");
}

/** The failure as one line for health and logs: each cause's message, credentials redacted. */
export function failureReason(error: unknown): string {
  const parts: string[] = [];
  for (const e of errorChain(error)) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      continue;
    }
    const code = (e as { code?: unknown }).code;
    const text = e.message || (typeof code === "string" ? code : e.name);
    if (text && !parts.includes(text)) parts.push(text);
    if (parts.length >= 4) break;
  }
  return truncate(redactText(parts.join(" ← ")), 500);
}

/** Waits `ms`, but wakes early once the member is no longer active (close, revoke). */
async function pause(ms: number, isActive: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (isActive()) {
    const left = until - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(left, 100));
  }
}

export function decodeMessage<T>(
  message: IncomingMessage,
  decode: (value: unknown) => T,
  format: "json" | "raw" = "json",
): T {
  if (format === "raw") return decode(message.value);
  let json: unknown;
  try {
    json = JSON.parse(message.value);
  } catch (error) {
    throw new PoisonMessageError(`invalid JSON: ${(error as Error).message}`);
  }
  try {
    return decode(json);
  } catch (error) {
    if (error instanceof ZodError) {
      const detail = error.issues
        .slice(0, 10)
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ");
      throw new PoisonMessageError(`schema validation failed: ${detail}`);
    }
    throw new PoisonMessageError(`decode failed: ${(error as Error).message}`);
  }
}

export async function deliver<T>(
  message: IncomingMessage,
  options: SubscribeOptions<T>,
  deps: DeliveryDeps,
): Promise<DeliveryOutcome> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let event: T;
  try {
    event = decodeMessage(message, options.decode, options.format);
  } catch (error) {
    return deadLetter(message, options, error as Error, 1, "poison", deps);
  }
  const where = { topic: message.topic, partition: message.partition, offset: message.offset };
  let failures = 0;
  let outage = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      if (!deps.isActive()) return { status: "aborted" };
      try {
        await options.handler(event, { message, attempt });
        if (outage > 0) deps.log?.info({ ...where, attempt }, "dependency back; partition resumes");
        return { status: "handled" };
      } catch (error) {
        const verdict = classifyFailure(error);
        if (verdict === "transient") {
          // Not the message's fault: hold the partition (nothing after it is handled or
          // committed) and wait for the dependency, however long it takes.
          outage++;
          deps.stall?.stalled(failureReason(error));
          if (outage === 1 || outage % STALL_LOG_EVERY === 0)
            deps.log?.warn(
              { ...where, attempt, err: error },
              "transient failure; holding the partition and retrying until it succeeds",
            );
          await pause(backoffDelay(outage, backoff), deps.isActive);
          await deps.beforeRetry?.();
          continue;
        }
        outage = 0;
        deps.stall?.recovered();
        failures++;
        const final = verdict === "deterministic" || failures >= maxAttempts;
        deps.log?.warn(
          { ...where, attempt, err: error },
          final ? "handler failed; parking message in DLQ" : "handler failed; will retry",
        );
        if (final) {
          const reason: DlqReason =
            verdict === "unknown"
              ? "attempts-exhausted"
              : errorChain(error).some(isValidationError)
                ? "validation"
                : "non-retryable";
          return deadLetter(message, options, error as Error, attempt, reason, deps);
        }
        await pause(backoffDelay(failures, backoff), deps.isActive);
        await deps.beforeRetry?.();
      }
    }
  } finally {
    deps.stall?.recovered();
  }
}

/**
 * Parks the message in `<topic>.dlq`. If the DLQ cannot take it, the message is not done:
 * the publish is retried (the handler is not run again) and the partition reports itself
 * stalled until it succeeds or the member stops.
 */
async function deadLetter<T>(
  message: IncomingMessage,
  options: SubscribeOptions<T>,
  error: Error,
  attempts: number,
  reason: DlqReason,
  deps: DeliveryDeps,
): Promise<DeliveryOutcome> {
  const headers: Headers = {
    ...message.headers,
    "dlq-error": truncate(redactText(`${error.name}: ${error.message}`), 4_000),
    "dlq-error-class": error instanceof PoisonMessageError ? "poison" : "handler",
    "dlq-reason": reason,
    "dlq-original-topic": message.topic,
    "dlq-original-partition": String(message.partition),
    "dlq-original-offset": message.offset,
    "dlq-consumer-group": options.groupId,
    "dlq-attempts": String(attempts),
    "dlq-failed-at": new Date().toISOString(),
  };
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  try {
    for (let failed = 0; ; ) {
      if (!deps.isActive()) return { status: "aborted" };
      try {
        await deps.publish(dlqTopic(message.topic), [
          { key: message.key, value: message.value, headers },
        ]);
        const parked = { topic: message.topic, error: headers["dlq-error"] as string, reason };
        try {
          options.onDeadLetter?.(parked);
        } catch (error) {
          deps.log?.warn({ err: error, topic: message.topic }, "onDeadLetter threw; ignored");
        }
        return { status: "dead-lettered", error: parked.error };
      } catch (publishError) {
        failed++;
        deps.stall?.stalled(`could not park in DLQ: ${failureReason(publishError)}`);
        if (failed === 1 || failed % STALL_LOG_EVERY === 0)
          deps.log?.error(
            { topic: message.topic, offset: message.offset, err: publishError },
            "could not park message in DLQ; holding the partition and retrying",
          );
        await pause(backoffDelay(failed, backoff), deps.isActive);
        await deps.beforeRetry?.();
      }
    }
  } finally {
    deps.stall?.recovered();
  }
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * Delivers consecutive messages of one partition, in order: runs of decodable
 * messages go to the batch handler (when the subscription has one); a failed
 * batch, and every message without one, go through `deliver` one by one. A batch
 * that fails transiently is retried whole, as `deliver` retries one message.
 * Returns how many leading messages are done (handled or parked in the DLQ):
 * exactly those may be committed.
 */
export async function deliverMany<T>(
  messages: IncomingMessage[],
  options: SubscribeOptions<T>,
  deps: DeliveryDeps,
): Promise<number> {
  const batch = options.batch;
  let done = 0;
  if (!batch) {
    for (const m of messages) {
      const outcome = await deliver(m, options, deps);
      if (outcome.status === "aborted") return done;
      done++;
    }
    return done;
  }
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  while (done < messages.length) {
    if (!deps.isActive()) return done;
    // Collect a run of decodable messages; a poison message ends the run.
    const run: { event: T; ctx: { message: IncomingMessage; attempt: number } }[] = [];
    while (done + run.length < messages.length && run.length < batch.maxSize) {
      const m = messages[done + run.length]!;
      try {
        run.push({
          event: decodeMessage(m, options.decode, options.format),
          ctx: { message: m, attempt: 1 },
        });
      } catch {
        break;
      }
    }
    if (run.length > 0 && (await deliverRun(run, batch.handler, backoff, deps))) {
      done += run.length;
      continue;
    }
    if (!deps.isActive()) return done;
    // One by one: the failed run, or the poison message that ended it.
    const upto = run.length > 0 ? done + run.length : done + 1;
    for (const m of messages.slice(done, upto)) {
      const outcome = await deliver(m, options, deps);
      if (outcome.status === "aborted") return done;
      done++;
    }
  }
  return done;
}

/** True once the batch handler took the run; false when it failed for a reason of its own. */
async function deliverRun<T>(
  run: { event: T; ctx: { message: IncomingMessage; attempt: number } }[],
  handler: NonNullable<SubscribeOptions<T>["batch"]>["handler"],
  backoff: Backoff,
  deps: DeliveryDeps,
): Promise<boolean> {
  try {
    for (let outage = 0; deps.isActive(); ) {
      try {
        await handler(run);
        return true;
      } catch (error) {
        if (classifyFailure(error) !== "transient") {
          deps.log?.warn(
            { err: error, size: run.length },
            "batch handler failed; handling its messages one by one",
          );
          return false;
        }
        outage++;
        deps.stall?.stalled(failureReason(error));
        if (outage === 1 || outage % STALL_LOG_EVERY === 0)
          deps.log?.warn(
            { err: error, size: run.length, attempt: outage },
            "batch handler failed transiently; holding the partition and retrying",
          );
        await pause(backoffDelay(outage, backoff), deps.isActive);
        await deps.beforeRetry?.();
        for (const item of run) item.ctx.attempt = outage + 1;
      }
    }
    return false;
  } finally {
    deps.stall?.recovered();
  }
}
