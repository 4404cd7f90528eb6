/**
 * Third-party clients the root scripts need but the root package does not list: kafkajs
 * (to read topics from the broker) and pg (to create and drop a throwaway database).
 * Under pnpm's strict layout a root script cannot import them by name, so each is
 * loaded from the workspace package that declares it (@pw/bus, @pw/db) — the same
 * version the services run. Listing both in the root devDependencies would make these
 * plain imports.
 */
import { createRequire } from "node:module";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");

function loadFrom(pkgDir: string, name: string): unknown {
  return createRequire(join(ROOT, pkgDir, "package.json"))(name);
}

/** The slice of kafkajs the bench uses. */
export type KafkaMessage = { value: Buffer | null; timestamp: string };
export type KafkaConsumer = {
  connect(): Promise<void>;
  subscribe(o: { topics: string[]; fromBeginning: boolean }): Promise<void>;
  run(o: {
    eachBatchAutoResolve?: boolean;
    eachBatch: (p: { batch: { topic: string; messages: KafkaMessage[] } }) => Promise<void>;
  }): Promise<void>;
  disconnect(): Promise<void>;
};
export type KafkaAdmin = {
  connect(): Promise<void>;
  listTopics(): Promise<string[]>;
  deleteTopics(o: { topics: string[] }): Promise<void>;
  disconnect(): Promise<void>;
};
export type Kafka = {
  consumer(o: {
    groupId: string;
    sessionTimeout?: number;
    maxWaitTimeInMs?: number;
  }): KafkaConsumer;
  admin(): KafkaAdmin;
};

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  const kafkajs = loadFrom("packages/bus", "kafkajs") as {
    Kafka: new (o: { clientId: string; brokers: string[]; logLevel: number }) => Kafka;
    logLevel: { NOTHING: number };
  };
  return new kafkajs.Kafka({ clientId, brokers, logLevel: kafkajs.logLevel.NOTHING });
}

/** Runs one SQL statement (no parameters) on `url` with a client of its own. */
export async function sqlOnce(url: string, statement: string): Promise<void> {
  const pg = loadFrom("packages/db", "pg") as {
    Client: new (o: {
      connectionString: string;
      connectionTimeoutMillis: number;
    }) => {
      connect(): Promise<void>;
      query(text: string): Promise<unknown>;
      end(): Promise<void>;
    };
  };
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
