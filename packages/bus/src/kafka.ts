/**
 * Kafka adapter (kafkajs): works against Apache Kafka and Redpanda.
 *
 * Producer: idempotent, acks=all, messages keyed by lead id. Publishes that
 * arrive while a request is in flight are coalesced into the next request
 * (no fixed linger: an idle producer sends at once, a busy one batches), so
 * throughput does not collapse to one round trip per publish. Coalescing must
 * not couple callers: a record the topic cannot take is refused before it joins
 * a request, a request never outgrows a topic's `max.message.bytes`, and a
 * request the broker refuses is retried caller by caller, so only the caller
 * whose records were refused gets the error.
 *
 * Consumer: one kafkajs consumer per subscription (a member of the group).
 * Messages of a partition are handled in order; an offset is resolved only
 * after the handler succeeded or the message was parked in the DLQ, and
 * kafkajs commits resolved offsets only — so a crash redelivers.
 *
 * Security: TLS (with an optional private CA) and SASL PLAIN/SCRAM from config.
 */
import type { Logger } from "@pw/logger";
import { errorChain } from "@pw/resilience";
import kafkajs, {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Message,
  type Producer,
  type SASLOptions,
} from "kafkajs";
import { deliverMany, stallTracker } from "./delivery.ts";
import {
  type Bus,
  DEFAULT_MAX_MESSAGE_BYTES,
  dlqSpec,
  type Headers,
  type IncomingMessage,
  type OutgoingMessage,
  PublishRejectedError,
  recordBytes,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from "./types.ts";

/** How the bus authenticates to the brokers (KAFKA_SASL_* in @pw/config). */
export type KafkaSasl = {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  username: string;
  password: string;
};

/** TLS to the brokers; `ca` (PEM) replaces the system's trusted roots when set. */
export type KafkaTls = { ca?: string };

export type KafkaBusOptions = {
  brokers: string[];
  clientId?: string;
  /** Partitions for topics this bus creates. Default 6. */
  partitions?: number;
  replicationFactor?: number;
  logger?: Logger;
  /** Broker unreachable: how long publish keeps retrying before it rejects (ms). Default ~3 s. */
  publishRetry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
  /** Consumer group session timeout (ms): how soon a silent (crashed) member is evicted. */
  sessionTimeout?: number;
  /** Max messages per produce request. Default 1000. */
  maxBatchMessages?: number;
  /**
   * Namespace for topic names on the broker (`<prefix>lead.events.v1`), so that
   * environments or test runs can share a cluster. Services keep using logical names.
   */
  topicPrefix?: string;
  /** TLS to the brokers (KAFKA_SSL, KAFKA_SSL_CA_FILE). Off when absent. */
  tls?: KafkaTls;
  /** SASL authentication (KAFKA_SASL_*). None when absent. */
  sasl?: KafkaSasl;
  /**
   * The largest record a topic takes unless it says otherwise: the broker's
   * `message.max.bytes` (default 1048588). Raise it together with the broker's.
   */
  maxMessageBytes?: number;
};

const COMMIT_INTERVAL_MS = 500;
const CLOSE_TIMEOUT_MS = 10_000;
/** Bytes a record batch adds around its records (v2 header), and each record around its payload. */
const BATCH_OVERHEAD_BYTES = 61;
const RECORD_OVERHEAD_BYTES = 24;

/** kafkajs errors that mean the broker could not be reached at all (nothing was refused). */
const UNREACHABLE = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

/** Broker answers that refuse the records themselves, not the request or the topic. */
const RECORD_REFUSED = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_TIMESTAMP",
  "POLICY_VIOLATION",
]);

/** The kafkajs client settings for these options (pure, so config → client is testable). */
export function kafkaClientConfig(options: KafkaBusOptions, log?: Logger): KafkaConfig {
  const config: KafkaConfig = {
    clientId: options.clientId ?? "pipeline-whisperer",
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  };
  if (options.tls) config.ssl = options.tls.ca ? { ca: [options.tls.ca] } : true;
  if (options.sasl) {
    const { mechanism, username, password } = options.sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

/** One caller's publish, waiting to join a produce request. */
type Pending = {
  topic: string;
  messages: Message[];
  /** Payload plus per-record overhead: what it adds to its partition's record batch at most. */
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
};

export function createKafkaBus(options: KafkaBusOptions): Bus {
  const log = options.logger;
  const kafka = new Kafka(kafkaClientConfig(options, log));
  const maxBatchMessages = options.maxBatchMessages ?? 1_000;
  /** Per physical topic, its `max.message.bytes` as learnt by ensureTopics. */
  const limits = new Map<string, number>();
  const limitOf = (topic: string) =>
    limits.get(topic) ?? options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const prefix = options.topicPrefix ?? "";
  const physical = (topic: string) => prefix + topic;
  const logical = (topic: string) =>
    prefix && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;

  let producer: Producer | undefined;
  let producerConnecting: Promise<Producer> | undefined;
  let admin: Admin | undefined;
  const consumers = new Set<Subscription>();
  let closed = false;

  async function getProducer(): Promise<Producer> {
    if (producer) return producer;
    producerConnecting ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // Bounded: a broker outage must surface as an error (ingest answers 503),
        // not as a publish that hangs forever.
        retry: options.publishRetry ?? { retries: 4, initialRetryTime: 200, maxRetryTime: 1_500 },
      });
      try {
        await p.connect();
      } catch (error) {
        producerConnecting = undefined;
        throw error;
      }
      p.on(p.events.DISCONNECT, () => {
        if (producer !== p) return;
        producer = undefined;
        producerConnecting = undefined;
      });
      producer = p;
      return p;
    })();
    return producerConnecting;
  }

  async function getAdmin(): Promise<Admin> {
    if (admin) return admin;
    const a = kafka.admin();
    await a.connect();
    admin = a;
    return a;
  }

  /**
   * After a failed produce request kafkajs rolls back the idempotence sequence numbers of
   * every partition in it, written or not; reusing them could make the broker take new
   * records for duplicates of written ones (and drop them) or refuse them as out of
   * order. A fresh producer gets a new producer id, so its sequences start clean.
   */
  function discardProducer(p: Producer | undefined) {
    if (!p || producer !== p) return;
    producer = undefined;
    producerConnecting = undefined;
    void p.disconnect().catch(() => {});
  }

  // Coalescing sender: per topic, publishes queued while a send is in flight go
  // together in the next produce request.
  const queues = new Map<string, Pending[]>();
  let sending = false;

  function publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (closed) return Promise.reject(new Error("bus is closed"));
    if (messages.length === 0) return Promise.resolve();
    const logicalTopic = topic;
    topic = physical(topic);
    // A record the topic cannot take is refused here, before it can share a request.
    const limit = limitOf(topic);
    let bytes = 0;
    for (const m of messages) {
      const size = recordBytes(m);
      if (size + RECORD_OVERHEAD_BYTES + BATCH_OVERHEAD_BYTES > limit)
        return Promise.reject(
          new PublishRejectedError(
            logicalTopic,
            `record for key "${m.key}" is ${size} bytes; the topic accepts at most ${limit} (max.message.bytes)`,
          ),
        );
      bytes += size + RECORD_OVERHEAD_BYTES;
    }
    return new Promise<void>((resolve, reject) => {
      const queue = queues.get(topic) ?? [];
      queue.push({
        topic,
        messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        bytes,
        resolve,
        reject,
      });
      queues.set(topic, queue);
      if (!sending) {
        sending = true;
        // Let publishes made in the same tick join this request.
        setImmediate(() => void pump());
      }
    });
  }

  /**
   * The next request: callers in queue order, up to `maxBatchMessages` records and, per
   * topic, up to what one record batch of that topic may hold — coalescing must never
   * make a request the broker refuses when each caller's own would pass. A caller that
   * does not fit waits for the next request, and so does everyone behind it on its topic
   * (order). A caller too big for any request goes alone.
   */
  function nextRequest(): Pending[] {
    const batch: Pending[] = [];
    let count = 0;
    for (const [topic, queue] of queues) {
      const budget = limitOf(topic) - BATCH_OVERHEAD_BYTES;
      let bytes = 0;
      while (queue.length > 0) {
        const next = queue[0]!;
        const fits =
          count + next.messages.length <= maxBatchMessages && bytes + next.bytes <= budget;
        if (!fits && batch.length > 0) break;
        batch.push(queue.shift()!);
        count += next.messages.length;
        bytes += next.bytes;
        if (!fits) {
          if (queue.length === 0) queues.delete(topic);
          return batch;
        }
      }
      if (queue.length === 0) queues.delete(topic);
      if (count >= maxBatchMessages) break;
    }
    return batch;
  }

  async function pump() {
    try {
      while (queues.size > 0) await send(nextRequest());
    } finally {
      sending = false;
      if (queues.size > 0) {
        sending = true;
        setImmediate(() => void pump());
      }
    }
  }

  /**
   * Sends one request; settles every caller in it. When the broker refuses it, the
   * callers are tried again apart — per topic, then, for records refused, per caller —
   * so that one caller's bad record fails that caller only. (Records of the refused
   * request that the broker had already written on other partitions are written again:
   * a duplicate, which at-least-once consumers absorb, rather than a failed publish.)
   */
  async function send(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    let p: Producer | undefined;
    try {
      p = await getProducer();
      await p.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
      for (const pending of batch) pending.resolve();
      return;
    } catch (error) {
      discardProducer(p);
      const topics = new Set(batch.map((b) => b.topic));
      if (batch.length > 1 && !unreachable(error) && topics.size > 1) {
        for (const topic of topics) await send(batch.filter((b) => b.topic === topic));
        return;
      }
      const refused = recordsRefused(error);
      if (batch.length > 1 && refused) {
        for (const pending of batch) await send([pending]);
        return;
      }
      const reason = refused
        ? new PublishRejectedError(logical(batch[0]!.topic), refused, { cause: error })
        : error;
      for (const pending of batch) pending.reject(reason);
    }
  }

  function byTopic(batch: Pending[]): { topic: string; messages: Message[] }[] {
    const out = new Map<string, Message[]>();
    for (const pending of batch) {
      const messages = out.get(pending.topic) ?? [];
      messages.push(...pending.messages);
      out.set(pending.topic, messages);
    }
    return [...out].map(([topic, messages]) => ({ topic, messages }));
  }

  async function subscribe<T>(opts: SubscribeOptions<T>): Promise<Subscription> {
    const consumer: Consumer = kafka.consumer({
      // One Kafka group per (group, topic): kafkajs's assigners hand every member
      // partitions of every topic in the group, so members subscribed to different
      // topics must not share a group. The in-process bus keys groups the same way.
      groupId: `${opts.groupId}.${physical(opts.topic)}`,
      sessionTimeout: options.sessionTimeout ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeout ?? 30_000) / 5)),
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    let state = "active" as "active" | "draining" | "gone";
    const stalls = stallTracker();
    const gone = () => state === "gone";
    let assigned: number[] = [];
    /** Per partition: messages behind its high watermark as of its last batch (for `lag`). */
    const lags = new Map<number, number>();
    let lastCommit = Date.now();
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned = [...(e.payload.memberAssignment[physical(opts.topic)] ?? [])].sort(
        (a, b) => a - b,
      );
      for (const p of lags.keys()) if (!assigned.includes(p)) lags.delete(p);
      if (assigned.length > 0) markReady();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      log?.error(
        { err: e.payload.error, groupId: opts.groupId, topic: opts.topic },
        "kafka consumer crashed",
      );
    });

    await consumer.connect();
    // Same KRaft metadata lag as in ensureTopics, seen by a fresh client: retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe({
          topic: physical(opts.topic),
          fromBeginning: opts.fromBeginning ?? true,
        });
        break;
      } catch (error) {
        const retriable = (error as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION";
        if (!retriable || attempt >= 20) {
          await consumer.disconnect().catch(() => {});
          throw error;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: COMMIT_INTERVAL_MS,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 6,
      eachBatch: async ({
        batch,
        resolveOffset,
        heartbeat,
        isRunning,
        isStale,
        commitOffsetsIfNecessary,
      }) => {
        const toIncoming = (m: (typeof batch.messages)[number]): IncomingMessage => ({
          topic: logical(batch.topic),
          partition: batch.partition,
          offset: m.offset,
          key: m.key?.toString() ?? "",
          value: m.value?.toString() ?? "",
          headers: decodeHeaders(m.headers),
          timestamp: Number(m.timestamp),
        });
        const deps = {
          publish,
          isActive: () => state === "active" && isRunning() && !isStale(),
          beforeRetry: heartbeat,
          stall: stalls.partition(batch.partition),
          log,
        };
        // Per message, or in slices for a batch handler; either way an offset is
        // resolved only once its message is done.
        const size = opts.batch?.maxSize ?? 1;
        for (let i = 0; i < batch.messages.length; i += size) {
          if (state !== "active" || !isRunning() || isStale()) break;
          const slice = batch.messages.slice(i, i + size);
          const done = await deliverMany(slice.map(toIncoming), opts, deps);
          // Crashed mid-slice: leave the rest unresolved so it is redelivered.
          if (gone()) return;
          if (done > 0) {
            resolveOffset(slice[done - 1]!.offset);
            lags.set(
              batch.partition,
              Math.max(0, Number(batch.highWatermark) - Number(slice[done - 1]!.offset) - 1),
            );
          }
          if (done < slice.length) return;
          await heartbeat();
          // Within a long batch, commit every COMMIT_INTERVAL_MS so a crash redelivers a
          // bounded tail; kafkajs commits the rest when the batch ends. (Checked here
          // rather than per message by kafkajs: its check is costly on a hot path.)
          if (Date.now() - lastCommit >= COMMIT_INTERVAL_MS) {
            lastCommit = Date.now();
            await commitOffsetsIfNecessary();
          }
        }
      },
    });

    const subscription: Subscription = {
      ready,
      assignment: () => assigned,
      health: () => stalls.health(),
      lag: () => {
        if (lags.size === 0) return undefined;
        let behind = 0;
        for (const n of lags.values()) behind += n;
        return behind;
      },
      async close() {
        if (state !== "active") return;
        consumers.delete(subscription);
        state = "draining";
        // kafkajs waits for the running batch, commits resolved offsets, leaves the group.
        await consumer.disconnect();
        state = "gone";
      },
      async crash() {
        if (state === "gone") return;
        consumers.delete(subscription);
        state = "gone";
        // Do not wait for the in-flight handler (a dead process would not): from now
        // on nothing more is resolved, and the group moves on once kafkajs leaves.
        void consumer.disconnect().catch(() => {});
      },
    };
    consumers.add(subscription);
    return subscription;
  }

  return {
    driver: "kafka",
    async ensureTopics(specs: TopicSpec[]) {
      const a = await getAdmin();
      const existing = new Set(await a.listTopics());
      const all = specs
        .flatMap((s) => [s, dlqSpec(s, options.maxMessageBytes)])
        .map((s) => ({ ...s, name: physical(s.name) }));
      const wanted = all.filter((s) => !existing.has(s.name));
      if (wanted.length > 0) await createTopics(a, wanted);
      await learnLimits(
        a,
        all.map((s) => s.name),
      );
    },
    publish,
    subscribe,
    async healthy() {
      try {
        const a = await getAdmin();
        await a.describeCluster();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      closed = true;
      // Shutdown must finish even if a handler never returns (kafkajs waits for the
      // running batch): give each step a bound, then move on.
      const bounded = (what: string, p: Promise<unknown>) =>
        Promise.race([
          p.catch(() => {}),
          new Promise<void>((resolve) =>
            setTimeout(() => {
              log?.warn({ what }, "kafka bus: shutdown step timed out");
              resolve();
            }, CLOSE_TIMEOUT_MS).unref(),
          ),
        ]);
      await Promise.all([...consumers].map((s) => bounded("consumer close", s.close())));
      await bounded("producer disconnect", producer?.disconnect() ?? Promise.resolve());
      await bounded("admin disconnect", admin?.disconnect() ?? Promise.resolve());
    },
  };

  async function createTopics(a: Admin, wanted: (TopicSpec & { name: string })[]) {
    // kafkajs's own waitForLeaders fails on the KRaft metadata lag; ours tolerates it.
    await a.createTopics({
      waitForLeaders: false,
      topics: wanted.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions ?? options.partitions ?? 6,
        replicationFactor: options.replicationFactor ?? 1,
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(
      a,
      wanted.map((w) => w.name),
    );
  }

  /**
   * Reads each topic's `max.message.bytes` so that publish can refuse an oversized record
   * alone instead of in a shared request. Without DescribeConfigs rights the broker
   * default is assumed, and a smaller topic limit is found out by the broker instead.
   */
  async function learnLimits(a: Admin, names: string[]) {
    try {
      const { resources } = await a.describeConfigs({
        includeSynonyms: false,
        resources: names.map((name) => ({
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name,
          configNames: ["max.message.bytes"],
        })),
      });
      for (const r of resources) {
        const value = Number(
          r.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue,
        );
        if (r.errorCode === 0 && value > 0) limits.set(r.resourceName, value);
      }
    } catch (error) {
      log?.debug({ err: error }, "could not read topic limits; assuming the broker default");
    }
  }
}

/**
 * KRaft brokers can answer "does not host this topic-partition" for a moment after a
 * topic is created: waits until metadata shows a leader for every partition of `names`.
 */
export async function waitForLeaders(a: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const { topics } = await a.fetchTopicMetadata({ topics: names });
      if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${names.join(", ")} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The broker could not be reached at all (so nothing in the request was refused). */
function unreachable(error: unknown): boolean {
  return errorChain(error).some((e) => e instanceof Error && UNREACHABLE.has(e.name));
}

/** The broker's words when it refused the records themselves, else undefined. */
function recordsRefused(error: unknown): string | undefined {
  for (const e of errorChain(error)) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === "string" && RECORD_REFUSED.has(type))
      return `${(e as Error).message} (${type})`;
  }
  return undefined;
}

/** kafkajs headers as the port's string map (a repeated header joined with commas). */
export function decodeHeaders(headers: IHeaders | undefined): Headers {
  const out: Headers = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(",") : v.toString();
  }
  return out;
}

/** Routes kafkajs's own logging into pino (or nowhere). */
function kafkaLogCreator(log: Logger | undefined) {
  return () =>
    ({ level, log: entry }: { level: number; log: { message: string; [k: string]: unknown } }) => {
      if (!log) return;
      const { message, ...rest } = entry;
      if (level <= logLevel.ERROR) log.error({ kafkajs: rest }, message);
      else if (level === logLevel.WARN) log.warn({ kafkajs: rest }, message);
      else log.debug({ kafkajs: rest }, message);
    };
}
