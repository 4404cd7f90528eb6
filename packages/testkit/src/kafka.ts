// Kafka fixture: a real Kafka-protocol broker (Apache Kafka from scripts/services.sh,
// or Redpanda via testcontainers). Suites isolate themselves with unique topic names.
import { Kafka, logLevel } from "kafkajs";
import { dockerAvailable, unavailable, uniqueName } from "./services.ts";
import { waitFor } from "./wait-for.ts";

export type KafkaFixture = {
  brokers: string[];
  source: "env" | "testcontainers";
  /** A topic / group name unique to this run. */
  uniqueName(prefix: string): string;
  stop(): Promise<void>;
};

export async function kafkaFixture(
  env: NodeJS.ProcessEnv = process.env,
): Promise<KafkaFixture | null> {
  if (env.KAFKA_BROKERS) {
    const brokers = env.KAFKA_BROKERS.split(",").map((b) => b.trim());
    await waitForBroker(brokers);
    return { brokers, source: "env", uniqueName, stop: async () => {} };
  }
  if (dockerAvailable(env)) {
    const { RedpandaContainer } = await import("@testcontainers/redpanda");
    const container = await new RedpandaContainer(
      "docker.redpanda.com/redpandadata/redpanda:v24.3.6",
    ).start();
    const brokers = [container.getBootstrapServers()];
    await waitForBroker(brokers);
    return {
      brokers,
      source: "testcontainers",
      uniqueName,
      stop: async () => {
        await container.stop();
      },
    };
  }
  return unavailable(
    "Kafka",
    'KAFKA_BROKERS is not set and no Docker engine answers (run `bash scripts/services.sh up` and `eval "$(bash scripts/services.sh env)"`)',
  );
}

/** The port opening is not enough: wait until the cluster answers metadata requests. */
async function waitForBroker(brokers: string[], timeoutMs = 60_000): Promise<void> {
  const kafka = new Kafka({ clientId: "pw-testkit", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await waitFor(
      async () => {
        await admin.connect();
        await admin.describeCluster();
        return true;
      },
      { timeoutMs, intervalMs: 500, message: `Kafka at ${brokers.join(",")} to answer` },
    );
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Messages on a topic right now (high minus low watermark, summed over partitions). A
 * reader that has consumed this many has read everything: the way to judge "nothing
 * extra arrived" without sleeping.
 */
export async function topicMessageCount(brokers: string[], topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: "pw-testkit", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
