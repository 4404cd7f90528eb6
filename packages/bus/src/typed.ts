/**
 * Typed publishing and subscribing on the project's topics: the envelope is
 * serialised with the headers every consumer relies on (trace context, content
 * type, schema version), and decoding uses the topic's own schema.
 */
import {
  type AnyEnvelope,
  type TopicEvent,
  type TopicName,
  TopicSchemas,
  typeVersion,
} from "@pw/events";
import type {
  Bus,
  HandlerContext,
  Headers,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from "./types.ts";

/** The headers every consumer relies on: CloudEvents attributes, content type, version, trace. */
export function headersOf(event: AnyEnvelope): Headers {
  const headers: Headers = {
    "content-type": "application/cloudevents+json; charset=utf-8",
    "ce-id": event.id,
    "ce-type": event.type,
    "ce-source": event.source,
    "schema-version": String(typeVersion(event.type)),
  };
  if (event.traceparent) headers.traceparent = event.traceparent;
  return headers;
}

export function toMessage(event: AnyEnvelope): OutgoingMessage {
  return { key: event.subject, value: JSON.stringify(event), headers: headersOf(event) };
}

export function publishEvents<T extends TopicName>(
  bus: Bus,
  topic: T,
  events: TopicEvent<T>[],
): Promise<void> {
  return bus.publish(
    topic,
    events.map((e) => toMessage(e as AnyEnvelope)),
  );
}

export type TopicSubscribeOptions<T extends TopicName> = Omit<
  SubscribeOptions<TopicEvent<T>>,
  "topic" | "decode"
> & {
  topic: T;
  handler: (event: TopicEvent<T>, ctx: HandlerContext) => Promise<void>;
};

export function subscribeTopic<T extends TopicName>(
  bus: Bus,
  options: TopicSubscribeOptions<T>,
): Promise<Subscription> {
  const schema = TopicSchemas[options.topic];
  return bus.subscribe({
    ...options,
    decode: (value) => schema.parse(value) as TopicEvent<T>,
  });
}
