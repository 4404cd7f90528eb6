/** The bus port, its Kafka and in-process adapters, and typed helpers for the project's topics. */
import type { Logger } from "@pw/logger";
import { createKafkaBus, type KafkaSasl, type KafkaTls } from "./kafka.ts";
import { createMemoryBus } from "./memory.ts";
import type { Bus } from "./types.ts";

export { classifyFailure, type DlqReason, decodeMessage } from "./delivery.ts";
export {
  createKafkaBus,
  type KafkaBusOptions,
  type KafkaSasl,
  type KafkaTls,
  kafkaClientConfig,
} from "./kafka.ts";
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
      /** TLS to the brokers (KAFKA_SSL, KAFKA_SSL_CA_FILE). */
      tls?: KafkaTls;
      /** SASL authentication (KAFKA_SASL_*). */
      sasl?: KafkaSasl;
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
      tls: settings.tls,
      sasl: settings.sasl,
      logger,
    });
  }
  return createMemoryBus({ defaultPartitions: settings.partitions, logger });
}
export {
  createDlqTool,
  DLQ_TOOL_GROUP,
  type DlqActionResult,
  type DlqDepth,
  DlqSelectionError,
  type DlqSelector,
  type DlqTool,
  type DlqToolOptions,
  droppedTopic,
  type KafkaDlqOptions,
  type ParkedMessage,
  toParked,
} from "./dlq.ts";
