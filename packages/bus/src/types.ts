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
 * - a handler failing `maxAttempts` times, or a message that cannot be decoded,
 *   goes to `<topic>.dlq` with the error — never silently dropped.
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

export type TopicSpec = { name: string; partitions?: number };

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
  /** Handler attempts before the message is parked in the DLQ. Default 5. */
  maxAttempts?: number;
  /** Exponential backoff with full jitter between attempts. Default 100 ms doubling up to 5 s. */
  backoff?: { initialMs: number; maxMs: number };
  /** Where a group with no committed offset starts. Default true (nothing is skipped). */
  fromBeginning?: boolean;
  /** Partitions handled concurrently by this member. Default 1 per partition at a time, all partitions in parallel. */
  partitionsConsumedConcurrently?: number;
};

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

export class UnknownTopicError extends Error {
  constructor(topic: string) {
    super(`unknown topic "${topic}": create it with ensureTopics first`);
    this.name = "UnknownTopicError";
  }
}
