/**
 * What the DLQ tool needs from a DLQ topic that the `Bus` port does not offer:
 * read it up to its end as of now, and remember which prefix of each partition
 * has been handled. Kafka does both with kafkajs directly (the handled prefix is
 * deleted with DeleteRecords, so the low watermark is the tool's position); the
 * in-process bus does both through the port (a mirror subscription) plus an
 * in-memory position per bus, which lives exactly as long as the bus's own state.
 * Publishing (redrive, drop records, re-parking) always goes through the port.
 */
import { randomUUID } from "node:crypto";
import { type Admin, Kafka, type KafkaConfig } from "kafkajs";
import { decodeHeaders, kafkaClientConfig, waitForLeaders } from "./kafka.ts";
import { type Bus, type IncomingMessage, UnknownTopicError } from "./types.ts";

export const DLQ_TOOL_GROUP = "pw-dlq-tool";

export type DlqLog = {
  /** The messages of `topic` not handled yet, up to its end as of the call, by partition then offset. */
  pending(topic: string): Promise<IncomingMessage[]>;
  /** Marks every message of a partition below its offset in `below` as handled. */
  advance(topic: string, below: Map<number, number>): Promise<void>;
  /** How many messages of `topic` are not handled yet (cheap: for a metric). */
  depth(topic: string): Promise<number>;
  /** The DLQ topics that exist (logical names), where the adapter can tell. */
  dlqTopics(): Promise<string[]>;
  /** Creates the topic that keeps dropped messages, when missing. */
  ensureDroppedTopic(topic: string, dlq: string): Promise<void>;
  close(): Promise<void>;
};

export type KafkaDlqOptions = {
  brokers: string[];
  clientId?: string;
  /** Must be the bus's own prefix: the tool names topics as the services do. */
  topicPrefix?: string;
  /** For the `.dropped` topic the tool creates. Default: the broker's default. */
  replicationFactor?: number;
  /** TLS and SASL as the bus connects (kafkajs settings), on a secured cluster. */
  ssl?: KafkaConfig["ssl"];
  sasl?: KafkaConfig["sasl"];
};

const READ_TIMEOUT_MS = 60_000;

export function kafkaDlqLog(options: KafkaDlqOptions): DlqLog {
  // The bus's client settings (no logger: kafkajs's own lines would only repeat the
  // error the tool reports), with the TLS and SASL the caller resolved.
  const kafka = new Kafka({
    ...kafkaClientConfig({
      brokers: options.brokers,
      clientId: options.clientId ?? DLQ_TOOL_GROUP,
    }),
    ...(options.ssl ? { ssl: options.ssl } : {}),
    ...(options.sasl ? { sasl: options.sasl } : {}),
  });
  const prefix = options.topicPrefix ?? "";
  const physical = (topic: string) => prefix + topic;
  let admin: Admin | undefined;

  async function getAdmin(): Promise<Admin> {
    if (admin) return admin;
    const a = kafka.admin();
    await a.connect();
    admin = a;
    return a;
  }

  async function watermarks(topic: string) {
    const a = await getAdmin();
    if (!(await a.listTopics()).includes(physical(topic))) throw new UnknownTopicError(topic);
    const offsets = await a.fetchTopicOffsets(physical(topic));
    return offsets.map((o) => ({
      partition: o.partition,
      low: Number(o.low),
      high: Number(o.high),
    }));
  }

  return {
    async pending(topic) {
      const ends = new Map(
        (await watermarks(topic)).filter((w) => w.high > w.low).map((w) => [w.partition, w.high]),
      );
      if (ends.size === 0) return [];
      // A group of its own that never commits: it starts at the low watermark (= the
      // tool's position) and leaves nothing behind on the broker.
      const consumer = kafka.consumer({
        groupId: `${DLQ_TOOL_GROUP}.read.${randomUUID()}`,
        allowAutoTopicCreation: false,
        maxWaitTimeInMs: 100,
      });
      const read = new Map<string, IncomingMessage>();
      let finish!: () => void;
      const done = new Promise<void>((resolve) => (finish = resolve));
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: physical(topic), fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            for (const m of batch.messages) {
              const offset = Number(m.offset);
              if (offset >= end) break;
              read.set(`${batch.partition}:${offset}`, {
                topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key?.toString() ?? "",
                value: m.value?.toString() ?? "",
                headers: decodeHeaders(m.headers),
                timestamp: Number(m.timestamp),
              });
              if (offset + 1 >= end) ends.delete(batch.partition);
            }
            if (ends.size === 0) finish();
          },
        });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          done,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(new Error(`reading ${topic} to its end took over ${READ_TIMEOUT_MS} ms`)),
              READ_TIMEOUT_MS,
            );
          }),
        ]).finally(() => clearTimeout(timer));
      } finally {
        await consumer.disconnect().catch(() => {});
      }
      return [...read.values()].sort(byPosition);
    },

    async advance(topic, below) {
      if (below.size === 0) return;
      const a = await getAdmin();
      // deleteTopicRecords looks partition leaders up in the admin's cached metadata.
      await a.fetchTopicMetadata({ topics: [physical(topic)] });
      await a.deleteTopicRecords({
        topic: physical(topic),
        partitions: [...below].map(([partition, offset]) => ({
          partition,
          offset: String(offset),
        })),
      });
    },

    async depth(topic) {
      return (await watermarks(topic)).reduce((n, w) => n + w.high - w.low, 0);
    },

    async dlqTopics() {
      const a = await getAdmin();
      return (await a.listTopics())
        .filter((t) => t.startsWith(prefix) && t.endsWith(".dlq"))
        .map((t) => t.slice(prefix.length))
        .sort();
    },

    async ensureDroppedTopic(topic, dlq) {
      const a = await getAdmin();
      const existing = await a.listTopics();
      if (existing.includes(physical(topic))) return;
      const { topics } = await a.fetchTopicMetadata({ topics: [physical(dlq)] });
      // Not through bus.ensureTopics: that would add a `.dropped.dlq`, and a drop record
      // must not expire with the broker's default retention (nothing silently lost).
      try {
        await a.createTopics({
          waitForLeaders: false,
          topics: [
            {
              topic: physical(topic),
              numPartitions: topics[0]?.partitions.length ?? 1,
              ...(options.replicationFactor
                ? { replicationFactor: options.replicationFactor }
                : {}),
              configEntries: [{ name: "retention.ms", value: "-1" }],
            },
          ],
        });
      } catch (error) {
        if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw error;
      }
      await waitForLeaders(a, [physical(topic)]);
    },

    async close() {
      await admin?.disconnect().catch(() => {});
      admin = undefined;
    },
  };
}

type Mirror = {
  ready: Promise<void>;
  /** Every message the DLQ ever received, per partition, at index = offset. */
  partitions: Map<number, IncomingMessage[]>;
  /** Per partition, the first offset not handled yet. */
  handledBelow: Map<number, number>;
};

/** Per in-process bus: its DLQ mirrors and the tool's positions, gone with the bus. */
const mirrors = new WeakMap<Bus, Map<string, Mirror>>();

export function memoryDlqLog(bus: Bus): DlqLog {
  const byTopic = mirrors.get(bus) ?? new Map<string, Mirror>();
  mirrors.set(bus, byTopic);

  async function mirror(topic: string): Promise<Mirror> {
    let m = byTopic.get(topic);
    if (!m) {
      const partitions = new Map<number, IncomingMessage[]>();
      const created: Mirror = {
        partitions,
        handledBelow: new Map(),
        ready: bus
          .subscribe({
            groupId: `${DLQ_TOOL_GROUP}.mirror`,
            topic,
            format: "raw",
            decode: (value) => value as string,
            handler: async (_value, { message }) => {
              const log = partitions.get(message.partition) ?? [];
              log[Number(message.offset)] = message;
              partitions.set(message.partition, log);
            },
          })
          .then((sub) => sub.ready),
      };
      byTopic.set(topic, created);
      created.ready.catch(() => byTopic.delete(topic));
      m = created;
    }
    await m.ready;
    // The in-process bus delivers what is already published within the current
    // turn of the event loop (no timers on the way): one macrotask later the mirror
    // holds everything published before this call.
    await new Promise((resolve) => setImmediate(resolve));
    return m;
  }

  return {
    async pending(topic) {
      const m = await mirror(topic);
      const out: IncomingMessage[] = [];
      for (const [partition, log] of [...m.partitions].sort(([a], [b]) => a - b)) {
        for (let o = m.handledBelow.get(partition) ?? 0; o < log.length; o++) {
          if (log[o]) out.push(log[o]!);
        }
      }
      return out;
    },
    async advance(topic, below) {
      const m = await mirror(topic);
      for (const [partition, offset] of below) {
        m.handledBelow.set(partition, Math.max(m.handledBelow.get(partition) ?? 0, offset));
      }
    },
    async depth(topic) {
      const m = await mirror(topic);
      let n = 0;
      for (const [partition, log] of m.partitions) {
        n += Math.max(0, log.length - (m.handledBelow.get(partition) ?? 0));
      }
      return n;
    },
    async dlqTopics() {
      throw new Error("the in-process bus cannot list its topics: name the DLQ topics");
    },
    async ensureDroppedTopic(topic) {
      await bus.ensureTopics([{ name: topic }]);
    },
    async close() {},
  };
}

function byPosition(a: IncomingMessage, b: IncomingMessage): number {
  return a.partition - b.partition || Number(a.offset) - Number(b.offset);
}
