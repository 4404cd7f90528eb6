/**
 * The bus port. Two adapters implement it with the same semantics: Kafka
 * (kafkajs, distributed mode) and an in-process bus (embedded mode, unit tests).
 *
 * Semantics every adapter keeps (proven by conformance.ts on both):
 * - messages with the same key land on the same partition, in publish order;
 * - `publish` resolves only once the messages are durably accepted (acks=all);
 * - each consumer group sees every message; members of a group share partitions;
 * - an offset is committed only after the handler succeeded (or the message was
 *   parked in `<topic>.dlq`), so a crash redelivers — at-least-once;
 * - a transient failure (a dependency down, see `isTransient` in @pw/resilience) is
 *   retried without bound while the partition is held and the subscription reports
 *   itself stalled; only deterministic failures are parked (ADR 0008);
 * - a message that cannot be decoded, a handler's NonRetryableError or validation
 *   error, or any other error `maxAttempts` times, goes to `<topic>.dlq` with the
 *   error — never silently dropped;
 * - one caller's record that the topic refuses fails that caller's publish only.
 */
export type Headers = Record<string, string>;

export type OutgoingMessage = {
  /** Partition key — the lead id on every topic. */
  key: string;
  value: string;
  headers?: Headers;
};

export type IncomingMessage = {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Headers;
  timestamp: number;
};

export type TopicSpec = {
  name: string;
  partitions?: number;
  /**
   * Topic configs applied when the topic is created (an existing topic is left alone),
   * e.g. `{ "max.message.bytes": "262144" }`. Both adapters refuse a record larger than
   * `max.message.bytes` (default: the broker's 1048588).
   */
  config?: Record<string, string>;
};

export type HandlerContext = { message: IncomingMessage; attempt: number };

export type SubscribeOptions<T> = {
  /** Consumer group; offsets and partition sharing are per (groupId, topic). */
  groupId: string;
  topic: string;
  /**
   * Turns the raw JSON value into the handler's type (typically a zod `parse`).
   * If it throws, the message is poison: it goes to the DLQ at once, without
   * retries — retrying a message that can never decode only blocks the partition.
   */
  decode: (value: unknown) => T;
  /** "json" (default): decode gets the parsed JSON. "raw": decode gets the value string (DLQ readers). */
  format?: "json" | "raw";
  handler: (event: T, ctx: HandlerContext) => Promise<void>;
  /**
   * Optional: handle consecutive messages of a partition together (e.g. one
   * database transaction for many events). If the batch handler throws, each
   * message of that batch goes through `handler` on its own, with the usual
   * retries and DLQ, so one bad message cannot block or poison its neighbours.
   */
  batch?: {
    maxSize: number;
    handler: (items: { event: T; ctx: HandlerContext }[]) => Promise<void>;
  };
  /**
   * Handler attempts before the message is parked in the DLQ, for errors that are
   * neither transient nor known to be deterministic. Default 5. Transient failures do
   * not count: they are retried until the dependency is back (ADR 0008).
   */
  maxAttempts?: number;
  /**
   * Exponential backoff with full jitter between attempts, transient or not. Default
   * 100 ms doubling up to 5 s — also the longest a stalled partition waits to notice
   * that its dependency is back.
   */
  backoff?: { initialMs: number; maxMs: number };
  /** Where a group with no committed offset starts. Default true (nothing is skipped). */
  fromBeginning?: boolean;
  /** Partitions handled concurrently by this member. Default 1 per partition at a time, all partitions in parallel. */
  partitionsConsumedConcurrently?: number;
  /**
   * Told once a message of this subscription is parked in `<topic>.dlq` (after the DLQ
   * acknowledged it), with the `dlq-error` and `dlq-reason` it was parked with. The service
   * kit counts them for its heartbeat. Must not throw.
   */
  onDeadLetter?: (parked: { topic: string; error: string; reason: string }) => void;
};

/**
 * What `/readyz` shows for a subscription. "stalled" while a message is being retried
 * for a transient failure (its partition is held, nothing after it is handled or
 * committed); `reason` is that failure's message with credentials redacted, `since` the
 * epoch ms of the first failed attempt. Back to "ok" once the message is done.
 */
export type SubscriptionHealth = { status: "ok" | "stalled"; reason?: string; since?: number };

export type Subscription = {
  /** Resolves once this member has been assigned its first partitions. */
  ready: Promise<void>;
  /** Partitions this member owns right now. */
  assignment(): number[];
  /** Graceful: finish the in-flight message, commit, leave the group. */
  close(): Promise<void>;
  /**
   * Leaves without finishing or committing the in-flight message, as a crashed
   * process would: whatever was not committed is redelivered to the group. (An
   * in-flight handler promise cannot be killed; it runs on, but its result is
   * discarded and nothing after it is handled by this member.)
   */
  crash(): Promise<void>;
  /** "stalled" while any of its partitions is held by a transient failure (the oldest is shown). */
  health(): SubscriptionHealth;
  /**
   * Messages not yet handled on this member's partitions, where the adapter knows it
   * without asking the broker: the in-process bus exactly; Kafka as of each partition's
   * last fetched batch (undefined until one arrived).
   */
  lag?(): number | undefined;
};

export type Bus = {
  readonly driver: "memory" | "kafka";
  /** Creates the topics (and their `.dlq`) when missing; existing topics are left alone. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Resolves once every message is acknowledged by the broker (acks=all). */
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe<T>(options: SubscribeOptions<T>): Promise<Subscription>;
  /** For `/readyz`: can we reach the broker right now? */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
};

/** A handler may throw this to skip retries (the failure is deterministic). */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NonRetryableError";
  }
}

/** The message could not be decoded (invalid JSON or schema): straight to the DLQ. */
export class PoisonMessageError extends NonRetryableError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PoisonMessageError";
  }
}

/**
 * The topic refuses this caller's record(s) — larger than its `max.message.bytes`, or
 * invalid for the broker. Deterministic: publishing the same again fails the same way.
 * Only the caller whose records were refused gets it; publishes coalesced with it go on.
 */
export class PublishRejectedError extends NonRetryableError {
  readonly topic: string;
  constructor(topic: string, message: string, options?: ErrorOptions) {
    super(`publish to "${topic}" rejected: ${message}`, options);
    this.name = "PublishRejectedError";
    this.topic = topic;
  }
}

/** The broker's default `message.max.bytes`: the largest record a topic accepts unless configured. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * The DLQ topic beside `spec`: same partitions and configs, but room for the `dlq-*`
 * headers a parked message gains, so that whatever its topic accepted can be parked.
 */
export function dlqSpec(
  spec: TopicSpec,
  defaultMaxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES,
): TopicSpec {
  const limit = Number(spec.config?.["max.message.bytes"]) || defaultMaxMessageBytes;
  return {
    ...spec,
    name: `${spec.name}.dlq`,
    config: { ...spec.config, "max.message.bytes": String(limit + DLQ_HEADROOM_BYTES) },
  };
}
/** More than the `dlq-*` headers take (the error is truncated to 4000 characters). */
const DLQ_HEADROOM_BYTES = 16_384;

/** A record's payload bytes (key, value, header names and values): what size limits are checked against. */
export function recordBytes(m: OutgoingMessage): number {
  let n = Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {}))
    n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

export class UnknownTopicError extends Error {
  constructor(topic: string) {
    super(`unknown topic "${topic}": create it with ensureTopics first`);
    this.name = "UnknownTopicError";
  }
}
