/**
 * The stack test's view of the broker: the project's Kafka bus adapter, and a tap that
 * reads topics from their beginning in a consumer group of its own and keeps every event
 * (by topic, deduplicated by event id, with how often each id was delivered).
 *
 * apps/web does not list @pw/bus among its dependencies (its tests so far ran on the
 * in-process stack), so the adapter is loaded from where @pw/embedded — which this app
 * does depend on, and whose recipient simulator takes a bus — resolves it. Adding
 * `"@pw/bus": "workspace:*"` to apps/web's devDependencies would make this a plain import.
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { startRecipientSimulator } from "@pw/embedded/recipients";

export type Bus = Parameters<typeof startRecipientSimulator>[0]["bus"];

type KafkaBusOptions = {
  brokers: string[];
  topicPrefix?: string;
  clientId?: string;
  /** How soon a crashed member of the tap's groups is evicted. */
  sessionTimeout?: number;
};

export async function kafkaBus(o: KafkaBusOptions): Promise<Bus> {
  const require = createRequire(import.meta.url);
  const embedded = require.resolve("@pw/embedded/recipients");
  const entry = createRequire(embedded).resolve("@pw/bus");
  const { createKafkaBus } = (await import(pathToFileURL(entry).href)) as {
    createKafkaBus: (o: KafkaBusOptions) => Bus;
  };
  return createKafkaBus(o);
}

/** The envelope fields the test reads (every topic's events share the envelope). */
export type Envelope = {
  id: string;
  type: string;
  subject: string;
  time: string;
  data: Record<string, unknown>;
};

export type Tap = {
  /** Distinct events of a topic, by id, in the order first seen. */
  events(topic: string): Envelope[];
  /** Event ids delivered more than once (a redelivery after a crash is allowed; consumers dedupe). */
  redelivered(topic: string): number;
  close(): Promise<void>;
};

export async function startTap(bus: Bus, topics: readonly string[], group: string): Promise<Tap> {
  const seen = new Map<string, Map<string, Envelope>>();
  const repeats = new Map<string, number>();
  const subscriptions = await Promise.all(
    topics.map((topic) => {
      const events = new Map<string, Envelope>();
      seen.set(topic, events);
      return bus.subscribe({
        groupId: `${group}-${topic}`,
        topic,
        fromBeginning: true,
        decode: (v) => v as Envelope,
        handler: async (e) => {
          if (events.has(e.id)) repeats.set(topic, (repeats.get(topic) ?? 0) + 1);
          else events.set(e.id, e);
        },
      });
    }),
  );
  return {
    events: (topic) => [...(seen.get(topic)?.values() ?? [])],
    redelivered: (topic) => repeats.get(topic) ?? 0,
    close: async () => {
      await Promise.all(subscriptions.map((s) => s.close()));
    },
  };
}
