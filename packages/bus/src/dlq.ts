/**
 * Operators' way out of a DLQ (`<topic>.dlq`): see how deep it is, list what is
 * parked and why, redrive messages to their topic once the cause is fixed, or
 * drop them with a note. Works on both adapters (see dlq-log.ts for what each
 * does beyond the port). Decisions and their reasons: ADR 0002, "Operating the DLQ".
 *
 * A DLQ partition is handled as a prefix: an action handles the selected messages
 * and copies the unselected ones that precede the last selected one to the tail
 * of the DLQ ("re-parks" them, headers unchanged), then marks that prefix handled.
 * So the DLQ's pending part is always "from the tool's position to the end", a
 * message is never redriven twice by the tool, and depth is end minus position.
 */
import type { Logger } from "@pw/logger";
import {
  DLQ_TOOL_GROUP,
  type DlqLog,
  type KafkaDlqOptions,
  kafkaDlqLog,
  memoryDlqLog,
} from "./dlq-log.ts";
import type { Bus, Headers, IncomingMessage, OutgoingMessage } from "./types.ts";

export { DLQ_TOOL_GROUP, type KafkaDlqOptions };

/** One message waiting in a DLQ. */
export type ParkedMessage = {
  /** Where it waits: its DLQ partition and offset. */
  dlqPartition: number;
  dlqOffset: string;
  /** Where it failed. */
  originalTopic: string;
  originalPartition: number;
  originalOffset: string;
  key: string;
  /** `dlq-error`: the handler's (or decoder's) error. */
  reason: string;
  /** `dlq-error-class`: "poison" (could not decode) or "handler". */
  errorClass: string | undefined;
  /** `dlq-reason`, where the parking consumer wrote one: why it gave up (e.g. "attempts-exhausted"). */
  failureKind: string | undefined;
  attempts: number;
  /** The consumer group that gave up on it. */
  consumerGroup: string | undefined;
  /** ISO time it was parked. */
  parkedAt: string;
  /** From the value when it is a JSON envelope (else the `ce-id` / `ce-type` headers). */
  eventId: string | undefined;
  eventType: string | undefined;
  value: string;
  headers: Headers;
};

/**
 * Which parked messages an action takes. The one-message forms (an original
 * offset, optionally with its partition, or an event id) must match exactly one
 * message, else the action fails with a `DlqSelectionError` and changes nothing.
 */
export type DlqSelector =
  | "all"
  | { originalOffset: string; originalPartition?: number }
  | { eventId: string }
  /** Matched against `dlq-error` and against `dlq-reason` (e.g. /attempts-exhausted/ after an outage). */
  | { reasonMatches: RegExp };

export type DlqDepth = { topic: string; dlqTopic: string; waiting: number };

export type DlqActionResult = {
  /** The original topic. */
  topic: string;
  action: "redrive" | "drop";
  /** The parked messages this action took (each now handled). */
  handled: ParkedMessage[];
  /** Messages written: redriven to the topic, or drop records written to `<topic>.dlq.dropped`. */
  published: number;
  /** Unselected messages copied to the DLQ's tail so that the handled prefix could advance. */
  reparked: number;
};

export class DlqSelectionError extends Error {
  override name = "DlqSelectionError";
}

export type DlqTool = {
  /** Messages waiting per DLQ; `topics` are original topic names (all DLQs on Kafka when omitted). */
  dlqDepth(topics?: string[]): Promise<DlqDepth[]>;
  listDlq(topic: string): Promise<ParkedMessage[]>;
  /** Republishes the selected messages to their topic (key, value, original headers), in original order. */
  redrive(args: { topic: string; which: DlqSelector }): Promise<DlqActionResult>;
  /** Moves the selected messages to `<topic>.dlq.dropped` with the note, without redriving them. */
  drop(args: { topic: string; which: DlqSelector; note: string }): Promise<DlqActionResult>;
  close(): Promise<void>;
};

export type DlqToolOptions = {
  /** Required when the bus is Kafka: the brokers and topic prefix the bus uses. */
  kafka?: KafkaDlqOptions;
  logger?: Logger;
};

/** `lead.events.v1` and `lead.events.v1.dlq` both name the DLQ of `lead.events.v1`. */
export function originalTopicOf(topic: string): string {
  return topic.endsWith(".dlq") ? topic.slice(0, -".dlq".length) : topic;
}

export function droppedTopic(topic: string): string {
  return `${originalTopicOf(topic)}.dlq.dropped`;
}

export function createDlqTool(bus: Bus, options: DlqToolOptions = {}): DlqTool {
  let log: DlqLog;
  if (bus.driver === "kafka") {
    if (!options.kafka) throw new Error("the DLQ tool needs the brokers of a Kafka bus");
    log = kafkaDlqLog(options.kafka);
  } else {
    log = memoryDlqLog(bus);
  }
  const logger = options.logger?.child({ component: DLQ_TOOL_GROUP });

  async function act(
    topic: string,
    which: DlqSelector,
    action: "redrive" | "drop",
    note?: string,
  ): Promise<DlqActionResult> {
    const original = originalTopicOf(topic);
    const dlq = `${original}.dlq`;
    const pending = (await log.pending(dlq)).map(toParked);
    const plan = planAction(pending, which);
    if (plan.handled.length === 0) {
      return { topic: original, action, handled: [], published: 0, reparked: 0 };
    }
    let published = 0;
    if (action === "redrive") {
      const messages = plan.redrive.map(redriveMessage);
      await bus.publish(original, messages);
      published = messages.length;
    } else {
      const dropped = droppedTopic(original);
      await log.ensureDroppedTopic(dropped, dlq);
      const at = new Date().toISOString();
      const records = plan.handled.map((m) => dropRecord(m, note ?? "", at));
      await bus.publish(dropped, records);
      published = records.length;
    }
    // Only after the above is acknowledged: a crash before `advance` repeats the
    // action on the next run (at-least-once, as everywhere on the bus).
    await bus.publish(dlq, plan.repark.map(reparkMessage));
    await log.advance(dlq, plan.handledBelow);
    logger?.info(
      {
        topic: original,
        action,
        handled: plan.handled.length,
        published,
        reparked: plan.repark.length,
        note,
      },
      `dlq ${action}`,
    );
    return {
      topic: original,
      action,
      handled: plan.handled,
      published,
      reparked: plan.repark.length,
    };
  }

  return {
    async dlqDepth(topics) {
      const dlqs = topics ? topics.map((t) => `${originalTopicOf(t)}.dlq`) : await log.dlqTopics();
      return Promise.all(
        dlqs.map(async (dlq) => ({
          topic: originalTopicOf(dlq),
          dlqTopic: dlq,
          waiting: await log.depth(dlq),
        })),
      );
    },
    async listDlq(topic) {
      const pending = (await log.pending(`${originalTopicOf(topic)}.dlq`)).map(toParked);
      return dedupeCopies(pending);
    },
    redrive: ({ topic, which }) => act(topic, which, "redrive"),
    async drop({ topic, which, note }) {
      if (!note.trim()) throw new DlqSelectionError("a drop needs a note saying why");
      return act(topic, which, "drop", note);
    },
    close: () => log.close(),
  };
}

/** Reads a DLQ message's headers and, when it is a JSON envelope, its event id and type. */
export function toParked(m: IncomingMessage): ParkedMessage {
  const h = m.headers;
  let envelope: { id?: unknown; type?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(m.value);
    if (parsed && typeof parsed === "object") envelope = parsed as typeof envelope;
  } catch {
    // Poison (not JSON): only the headers can say what it was.
  }
  return {
    dlqPartition: m.partition,
    dlqOffset: m.offset,
    originalTopic: h["dlq-original-topic"] ?? originalTopicOf(m.topic),
    originalPartition: Number(h["dlq-original-partition"] ?? -1),
    originalOffset: h["dlq-original-offset"] ?? "?",
    key: m.key,
    reason: h["dlq-error"] ?? "(no dlq-error header)",
    errorClass: h["dlq-error-class"],
    failureKind: h["dlq-reason"],
    attempts: Number(h["dlq-attempts"] ?? 0),
    consumerGroup: h["dlq-consumer-group"],
    parkedAt: h["dlq-failed-at"] ?? new Date(m.timestamp).toISOString(),
    eventId: typeof envelope.id === "string" ? envelope.id : h["ce-id"],
    eventType: typeof envelope.type === "string" ? envelope.type : h["ce-type"],
    value: m.value,
    headers: h,
  };
}

export type ActionPlan = {
  /** Every parked copy the action takes (exact duplicates collapsed). */
  handled: ParkedMessage[];
  /** One per original message, in original (partition, offset) order: what a redrive publishes. */
  redrive: ParkedMessage[];
  /** Unselected messages in the prefix that is marked handled: copied to the tail first. */
  repark: ParkedMessage[];
  /** Per DLQ partition, the new handled position (one past its last selected message). */
  handledBelow: Map<number, number>;
};

/**
 * Pure: what an action does to the pending messages of one DLQ. Copies of one
 * original message (the same message parked by two groups, or a duplicate left
 * by a run that crashed before marking) are taken together.
 */
export function planAction(pending: ParkedMessage[], which: DlqSelector): ActionPlan {
  const matched = new Set(pending.filter((m) => matches(m, which)).map(originalId));
  if (typeof which === "object" && !("reasonMatches" in which)) {
    if (matched.size === 0)
      throw new DlqSelectionError(`no pending message matches ${describeSelector(which)}`);
    if (matched.size > 1)
      throw new DlqSelectionError(
        `${matched.size} different messages match ${describeSelector(which)} (${[...matched].join(", ")}): narrow it, e.g. with the original partition`,
      );
  }
  const selected = pending.filter((m) => matched.has(originalId(m)));
  const handledBelow = new Map<number, number>();
  for (const m of selected) {
    const next = Number(m.dlqOffset) + 1;
    if (next > (handledBelow.get(m.dlqPartition) ?? 0)) handledBelow.set(m.dlqPartition, next);
  }
  // A copy that stays pending above the new position needs no re-parked twin.
  const staying = new Set(
    pending
      .filter((m) => Number(m.dlqOffset) >= (handledBelow.get(m.dlqPartition) ?? 0))
      .map(copyId),
  );
  const repark = dedupeCopies(
    pending.filter(
      (m) =>
        !matched.has(originalId(m)) &&
        Number(m.dlqOffset) < (handledBelow.get(m.dlqPartition) ?? 0) &&
        !staying.has(copyId(m)),
    ),
  );
  const redrive = [...new Map(selected.map((m) => [originalId(m), m])).values()].sort(
    (a, b) =>
      a.originalPartition - b.originalPartition ||
      Number(a.originalOffset) - Number(b.originalOffset),
  );
  return { handled: dedupeCopies(selected), redrive, repark, handledBelow };
}

function matches(m: ParkedMessage, which: DlqSelector): boolean {
  if (which === "all") return true;
  if ("reasonMatches" in which) {
    const test = (text: string | undefined) => {
      which.reasonMatches.lastIndex = 0;
      return text !== undefined && which.reasonMatches.test(text);
    };
    return test(m.reason) || test(m.failureKind);
  }
  if ("eventId" in which) return m.eventId === which.eventId;
  return (
    m.originalOffset === which.originalOffset &&
    (which.originalPartition === undefined || m.originalPartition === which.originalPartition)
  );
}

function describeSelector(which: DlqSelector): string {
  if (which === "all") return "all";
  if ("reasonMatches" in which) return `reason ${which.reasonMatches}`;
  if ("eventId" in which) return `event id ${which.eventId}`;
  return which.originalPartition === undefined
    ? `original offset ${which.originalOffset}`
    : `original partition ${which.originalPartition} offset ${which.originalOffset}`;
}

/** The message that failed, wherever and however often it was parked. */
function originalId(m: ParkedMessage): string {
  return `${m.originalTopic}/${m.originalPartition}/${m.originalOffset}`;
}

/** One parking of it (by one group, at one time): equal for a re-parked or crash-duplicated copy. */
function copyId(m: ParkedMessage): string {
  return `${originalId(m)} ${m.consumerGroup} ${m.parkedAt} ${m.reason}`;
}

function dedupeCopies(ms: ParkedMessage[]): ParkedMessage[] {
  return [...new Map(ms.map((m) => [copyId(m), m])).values()];
}

/** The message as first published: `dlq-*` headers belong to the parking, not to it. */
export function originalHeaders(headers: Headers): Headers {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith("dlq-")));
}

function redriveMessage(m: ParkedMessage): OutgoingMessage {
  return { key: m.key, value: m.value, headers: originalHeaders(m.headers) };
}

function reparkMessage(m: ParkedMessage): OutgoingMessage {
  // Pin the parking time: the copy's own timestamp is not when the message failed.
  return { key: m.key, value: m.value, headers: { ...m.headers, "dlq-failed-at": m.parkedAt } };
}

function dropRecord(m: ParkedMessage, note: string, at: string): OutgoingMessage {
  return {
    key: m.key,
    value: m.value,
    headers: {
      ...m.headers,
      "dlq-drop-note": note,
      "dlq-dropped-at": at,
      "dlq-dropped-from": `${m.dlqPartition}/${m.dlqOffset}`,
    },
  };
}
