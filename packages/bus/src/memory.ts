/**
 * The in-process bus for the embedded default and fast tests. Same semantics
 * as Kafka where it matters: murmur2 key partitioning, per-group committed
 * offsets, partitions shared among a group's members and rebalanced when one
 * joins or leaves, commits fenced by generation (a member that lost a partition
 * cannot commit it), redelivery of anything uncommitted. State lives in memory:
 * a process restart starts an empty bus (the embedded mode's database holds
 * what must survive).
 */
import type { Logger } from "@pw/logger";
import { sleep } from "@pw/resilience";
import { deliverMany, stallTracker } from "./delivery.ts";
import { partitionForKey } from "./partitioner.ts";
import {
  type Bus,
  DEFAULT_MAX_MESSAGE_BYTES,
  dlqSpec,
  type IncomingMessage,
  type OutgoingMessage,
  PublishRejectedError,
  recordBytes,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
  UnknownTopicError,
} from "./types.ts";

type StoredMessage = Omit<IncomingMessage, "topic" | "partition">;

type Partition = { log: StoredMessage[]; waiters: Set<() => void> };

type Member = {
  /** active → draining (graceful close: finish the current message) → gone. */
  state: "active" | "draining" | "gone";
  assigned: Set<number>;
  onAssigned: () => void;
  start: (partition: number, generation: number) => void;
};

type Group = {
  /** Bumped on every membership change; commits from an older generation are refused. */
  generation: number;
  members: Member[];
  committed: Map<number, number>;
  /**
   * Per partition, released when its previous owner's loop has stopped. A new
   * owner waits for it, as a Kafka member waits for the revoked one to finish
   * its batch, so one partition is never handled by two loops at once.
   */
  locks: Map<number, Promise<void>>;
};

const RETRY_AFTER_UNEXPECTED_MS = 1_000;

export type MemoryBusOptions = { defaultPartitions?: number; logger?: Logger };

export function createMemoryBus(options: MemoryBusOptions = {}): Bus {
  const defaultPartitions = options.defaultPartitions ?? 6;
  const topics = new Map<string, Partition[]>();
  /** Per topic, the largest record it accepts (`max.message.bytes`). */
  const limits = new Map<string, number>();
  /** `${topic}\u0000${groupId}` → group state. */
  const groups = new Map<string, Group>();
  let closed = false;
  const subscriptions = new Set<Subscription>();

  function topicOrThrow(name: string): Partition[] {
    const partitions = topics.get(name);
    if (!partitions) throw new UnknownTopicError(name);
    return partitions;
  }

  function createTopic(name: string, count: number) {
    if (topics.has(name)) return;
    topics.set(
      name,
      Array.from({ length: count }, () => ({ log: [], waiters: new Set<() => void>() })),
    );
  }

  async function publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (closed) throw new Error("bus is closed");
    const partitions = topicOrThrow(topic);
    const limit = limits.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
    for (const m of messages) {
      const size = recordBytes(m);
      if (size > limit)
        throw new PublishRejectedError(
          topic,
          `record for key "${m.key}" is ${size} bytes; the topic accepts at most ${limit} (max.message.bytes)`,
        );
    }
    const touched = new Set<Partition>();
    for (const m of messages) {
      const p = partitions[partitionForKey(m.key, partitions.length)]!;
      p.log.push({
        offset: String(p.log.length),
        key: m.key,
        value: m.value,
        headers: { ...m.headers },
        timestamp: Date.now(),
      });
      touched.add(p);
    }
    for (const p of touched) wake(p.waiters);
  }

  function wake(waiters: Set<() => void>) {
    const all = [...waiters];
    waiters.clear();
    for (const w of all) w();
  }

  function rebalance(group: Group, partitions: Partition[]) {
    const partitionCount = partitions.length;
    group.generation++;
    // Idle loops of the old generation must notice and release their partitions.
    for (const p of partitions) wake(p.waiters);
    const live = group.members.filter((m) => m.state === "active");
    for (const m of live) m.assigned = new Set();
    // Round-robin, like Kafka's RoundRobinAssignor for a single topic.
    for (let p = 0; p < partitionCount && live.length > 0; p++) {
      live[p % live.length]!.assigned.add(p);
    }
    for (const m of live) {
      for (const p of m.assigned) m.start(p, group.generation);
      if (m.assigned.size > 0) m.onAssigned();
    }
  }

  async function subscribe<T>(opts: SubscribeOptions<T>): Promise<Subscription> {
    const partitions = topicOrThrow(opts.topic);
    const groupKey = `${opts.topic}\u0000${opts.groupId}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { generation: 0, members: [], committed: new Map(), locks: new Map() };
      if (opts.fromBeginning === false) {
        for (const [i, p] of partitions.entries()) group.committed.set(i, p.log.length);
      }
      groups.set(groupKey, group);
    }
    const g = group;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const loops = new Set<Promise<void>>();
    const stalls = stallTracker();
    /** Releases this member's partition locks at once (crash: the process is gone). */
    const releases = new Set<() => void>();
    /** Wakes this member's idle loops so they notice a state change. */
    const idle = new Set<() => void>();

    const member: Member = {
      state: "active",
      assigned: new Set(),
      onAssigned: () => markReady(),
      start(partition, generation) {
        const previous = g.locks.get(partition) ?? Promise.resolve();
        let release!: () => void;
        g.locks.set(partition, new Promise<void>((resolve) => (release = resolve)));
        releases.add(release);
        const loop = previous
          .then(() => consume(partition, generation))
          .catch((error) => {
            options.logger?.error(
              { err: error, topic: opts.topic, partition },
              "memory consumer loop failed",
            );
          })
          .finally(() => {
            release();
            releases.delete(release);
          });
        loops.add(loop);
        void loop.finally(() => loops.delete(loop));
      },
    };

    const owns = (partition: number, generation: number) =>
      member.state !== "gone" && g.generation === generation && member.assigned.has(partition);
    const takesWork = (partition: number, generation: number) =>
      member.state === "active" && owns(partition, generation);

    async function consume(partition: number, generation: number) {
      const p = partitions[partition]!;
      while (takesWork(partition, generation)) {
        const offset = g.committed.get(partition) ?? 0;
        const stored = p.log[offset];
        if (!stored) {
          await new Promise<void>((resolve) => {
            p.waiters.add(resolve);
            idle.add(resolve);
          });
          continue;
        }
        const take = opts.batch ? Math.min(opts.batch.maxSize, p.log.length - offset) : 1;
        const messages: IncomingMessage[] = p.log
          .slice(offset, offset + take)
          .map((m) => ({ ...m, topic: opts.topic, partition }));
        let done: number;
        try {
          done = await deliverMany(messages, opts, {
            publish,
            isActive: () => takesWork(partition, generation),
            stall: stalls.partition(partition),
            log: options.logger,
          });
        } catch (error) {
          // Delivery retries handlers and DLQ publishes itself; anything escaping it is
          // unexpected. Keep the message uncommitted and try again rather than skip it.
          options.logger?.error(
            { err: error, topic: opts.topic, partition, offset },
            "delivery failed; retrying the message",
          );
          await sleep(RETRY_AFTER_UNEXPECTED_MS);
          continue;
        }
        // Fenced commit: a member that lost the partition meanwhile (or crashed)
        // must not move the group's offset; the new owner redelivers instead.
        if (
          done > 0 &&
          owns(partition, generation) &&
          (g.committed.get(partition) ?? 0) === offset
        ) {
          g.committed.set(partition, offset + done);
        }
        if (done < messages.length) return;
      }
    }

    function leave() {
      member.state = "gone";
      g.members = g.members.filter((m) => m !== member);
      wake(idle);
      rebalance(g, partitions);
    }

    g.members.push(member);
    rebalance(g, partitions);

    const subscription: Subscription = {
      ready,
      assignment: () => [...member.assigned].sort((a, b) => a - b),
      health: () => stalls.health(),
      lag: () => {
        let behind = 0;
        for (const p of member.assigned)
          behind += Math.max(0, partitions[p]!.log.length - (g.committed.get(p) ?? 0));
        return behind;
      },
      async close() {
        if (member.state !== "active") return;
        subscriptions.delete(subscription);
        member.state = "draining";
        wake(idle);
        await Promise.all([...loops]);
        leave();
      },
      async crash() {
        if (member.state === "gone") return;
        subscriptions.delete(subscription);
        leave();
        for (const release of releases) release();
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  return {
    driver: "memory",
    async ensureTopics(specs: TopicSpec[]) {
      for (const spec of specs.flatMap((s) => [s, dlqSpec(s)])) {
        if (topics.has(spec.name)) continue;
        createTopic(spec.name, spec.partitions ?? defaultPartitions);
        const limit = Number(spec.config?.["max.message.bytes"]);
        if (limit > 0) limits.set(spec.name, limit);
      }
    },
    publish,
    subscribe,
    async healthy() {
      return !closed;
    },
    async close() {
      for (const s of [...subscriptions]) await s.close();
      closed = true;
      await sleep(0);
    },
  };
}
