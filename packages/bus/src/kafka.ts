/**
 * Kafka adapter (kafkajs): works against Apache Kafka and Redpanda.
 *
 * Producer: idempotent, acks=all, messages keyed by lead id. Publishes that
 * arrive while a request is in flight are coalesced into the next request
 * (no fixed linger: an idle producer sends at once, a busy one batches), so
 * throughput does not collapse to one round trip per publish.
 *
 * Consumer: one kafkajs consumer per subscription (a member of the group).
 * Messages of a partition are handled in order; an offset is resolved only
 * after the handler succeeded or the message was parked in the DLQ, and
 * kafkajs commits resolved offsets only — so a crash redelivers.
 */
import type { Logger } from "@pw/logger";
import {
  type Admin,
  type Consumer,
  type IHeaders,
  Kafka,
  type KafkaConfig,
  logLevel,
  type Message,
  type Producer,
} from "kafkajs";
import { deliverMany } from "./delivery.ts";
import type {
  Bus,
  Headers,
  IncomingMessage,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from "./types.ts";

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
};

const COMMIT_INTERVAL_MS = 500;
const CLOSE_TIMEOUT_MS = 10_000;

type Pending = { messages: Message[]; resolve: () => void; reject: (e: unknown) => void };

export function createKafkaBus(options: KafkaBusOptions): Bus {
  const log = options.logger;
  const kafka = new Kafka({
    clientId: options.clientId ?? "pipeline-whisperer",
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  } satisfies KafkaConfig);
  const maxBatchMessages = options.maxBatchMessages ?? 1_000;
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

  // Coalescing sender: per topic, publishes queued while a send is in flight go
  // together in the next produce request.
  const queues = new Map<string, Pending[]>();
  let sending = false;

  function publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (closed) return Promise.reject(new Error("bus is closed"));
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      topic = physical(topic);
      const queue = queues.get(topic) ?? [];
      queue.push({
        messages: messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
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

  async function pump() {
    try {
      while (queues.size > 0) {
        const topicMessages: { topic: string; messages: Message[] }[] = [];
        const batch: Pending[] = [];
        let count = 0;
        for (const [topic, queue] of queues) {
          const messages: Message[] = [];
          while (
            queue.length > 0 &&
            (count === 0 || count + queue[0]!.messages.length <= maxBatchMessages)
          ) {
            const pending = queue.shift()!;
            messages.push(...pending.messages);
            batch.push(pending);
            count += pending.messages.length;
          }
          if (messages.length > 0) topicMessages.push({ topic, messages });
          if (queue.length === 0) queues.delete(topic);
          if (count >= maxBatchMessages) break;
        }
        try {
          const p = await getProducer();
          await p.sendBatch({ topicMessages, acks: -1 });
          for (const pending of batch) pending.resolve();
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      sending = false;
      if (queues.size > 0) {
        sending = true;
        setImmediate(() => void pump());
      }
    }
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
    const gone = () => state === "gone";
    let assigned: number[] = [];
    let lastCommit = Date.now();
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      assigned = [...(e.payload.memberAssignment[physical(opts.topic)] ?? [])].sort(
        (a, b) => a - b,
      );
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
          if (done > 0) resolveOffset(slice[done - 1]!.offset);
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
      const wanted = specs
        .flatMap((s) => [s, { ...s, name: `${s.name}.dlq` }])
        .map((s) => ({ ...s, name: physical(s.name) }))
        .filter((s) => !existing.has(s.name));
      if (wanted.length === 0) return;
      // kafkajs's own waitForLeaders fails on the KRaft metadata lag; we wait below.
      await a.createTopics({
        waitForLeaders: false,
        topics: wanted.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions ?? options.partitions ?? 6,
          replicationFactor: options.replicationFactor ?? 1,
        })),
      });
      // KRaft brokers can answer "does not host this topic-partition" for a moment
      // after creation: wait until metadata shows a leader for every partition.
      const names = wanted.map((w) => w.name);
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          const { topics } = await a.fetchTopicMetadata({ topics: names });
          if (
            topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
          )
            break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
        if (Date.now() > deadline)
          throw new Error(`topics ${names.join(", ")} have no leaders after 30 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
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
}

function decodeHeaders(headers: IHeaders | undefined): Headers {
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
