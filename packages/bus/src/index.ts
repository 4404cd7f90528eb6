/** The bus port, its Kafka and in-process adapters, and typed helpers for the project's topics. */
import type { Logger } from "@pw/logger";
import { createKafkaBus } from "./kafka.ts";
import { createMemoryBus } from "./memory.ts";
import type { Bus } from "./types.ts";

export { decodeMessage } from "./delivery.ts";
export { createKafkaBus, type KafkaBusOptions } from "./kafka.ts";
export { createMemoryBus, type MemoryBusOptions } from "./memory.ts";
export { murmur2, partitionForKey } from "./partitioner.ts";
export { headersOf, publishEvents, subscribeTopic, toMessage } from "./typed.ts";
export * from "./types.ts";

export type BusSettings =
  | { driver: "memory"; partitions: number }
  | {
      driver: "kafka";
      brokers: string[];
      clientId: string;
      partitions: number;
      replicationFactor: number;
      topicPrefix?: string;
    };

/** Builds the adapter that the parsed BusConfig asks for. */
export function createBus(settings: BusSettings, logger?: Logger): Bus {
  if (settings.driver === "kafka") {
    return createKafkaBus({
      brokers: settings.brokers,
      clientId: settings.clientId,
      partitions: settings.partitions,
      replicationFactor: settings.replicationFactor,
      topicPrefix: settings.topicPrefix,
      logger,
    });
  }
  return createMemoryBus({ defaultPartitions: settings.partitions, logger });
}
