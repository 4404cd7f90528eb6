/**
 * What both adapters do with one message: decode, call the handler with
 * bounded retries and backoff, and park it in the DLQ when it cannot succeed.
 * Shared so that the two adapters cannot drift apart in semantics.
 */
import { dlqTopic } from "@pw/events";
import type { Logger } from "@pw/logger";
import { type Backoff, backoffDelay } from "@pw/resilience";
import { ZodError } from "zod";
import {
  type Headers,
  type IncomingMessage,
  NonRetryableError,
  type OutgoingMessage,
  PoisonMessageError,
  type SubscribeOptions,
} from "./types.ts";

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

export type DeliveryOutcome =
  | { status: "handled" }
  | { status: "dead-lettered"; error: string }
  | { status: "aborted" };

export type DeliveryDeps = {
  /** Publishes to the DLQ; must resolve only once acknowledged. */
  publish: (topic: string, messages: OutgoingMessage[]) => Promise<void>;
  /** False once the member is closing/crashed/revoked: stop retrying, do not commit. */
  isActive: () => boolean;
  /** Called between attempts (Kafka: heartbeat so the group does not evict us). */
  beforeRetry?: () => Promise<void>;
  log?: Logger;
};

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
    return deadLetter(message, options.groupId, error as Error, 1, deps);
  }
  for (let attempt = 1; ; attempt++) {
    if (!deps.isActive()) return { status: "aborted" };
    try {
      await options.handler(event, { message, attempt });
      return { status: "handled" };
    } catch (error) {
      const final = error instanceof NonRetryableError || attempt >= maxAttempts;
      deps.log?.warn(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          attempt,
          err: error,
        },
        final ? "handler failed; parking message in DLQ" : "handler failed; will retry",
      );
      if (final) return deadLetter(message, options.groupId, error as Error, attempt, deps);
      await sleep(backoffDelay(attempt, backoff));
      await deps.beforeRetry?.();
    }
  }
}

async function deadLetter(
  message: IncomingMessage,
  groupId: string,
  error: Error,
  attempts: number,
  deps: DeliveryDeps,
): Promise<DeliveryOutcome> {
  if (!deps.isActive()) return { status: "aborted" };
  const headers: Headers = {
    ...message.headers,
    "dlq-error": truncate(`${error.name}: ${error.message}`, 4_000),
    "dlq-error-class": error instanceof PoisonMessageError ? "poison" : "handler",
    "dlq-original-topic": message.topic,
    "dlq-original-partition": String(message.partition),
    "dlq-original-offset": message.offset,
    "dlq-consumer-group": groupId,
    "dlq-attempts": String(attempts),
    "dlq-failed-at": new Date().toISOString(),
  };
  // If this publish fails the caller must not commit: the message is redelivered.
  await deps.publish(dlqTopic(message.topic), [
    { key: message.key, value: message.value, headers },
  ]);
  return { status: "dead-lettered", error: headers["dlq-error"] as string };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Delivers consecutive messages of one partition, in order: runs of decodable
 * messages go to the batch handler (when the subscription has one); a failed
 * batch, and every message without one, go through `deliver` one by one.
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
    if (run.length > 0) {
      try {
        await batch.handler(run);
        done += run.length;
        continue;
      } catch (error) {
        deps.log?.warn(
          { err: error, size: run.length },
          "batch handler failed; handling its messages one by one",
        );
      }
    }
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
