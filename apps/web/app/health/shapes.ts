/**
 * What the Health page reads: every service instance's latest heartbeat as the gateway
 * holds it (`GET /api/health` → `{ gateway, services: [{ service, instances }] }`) and the
 * parked messages with each DLQ's depth (`GET /api/dlq`). Read defensively: a missing part
 * (no outbox, no consumers) shows as absent, never as 0.
 */
import { isObj, listIn, num, str } from "../../lib/json.ts";

export type Check = {
  name: string;
  status: string;
  required: boolean;
  reason?: string | undefined;
};
export type Consumer = {
  topic: string;
  group: string;
  status: string | undefined;
  lag: number | undefined;
};
export type Instance = {
  service: string;
  instance: string;
  version: string | undefined;
  /** Reported ready and heard recently. */
  ready: boolean;
  stale: boolean;
  /** Gateway clock. */
  lastHeardAt: string | undefined;
  /** Silent this long when the gateway answered (its clock, not the browser's). */
  silentMs: number | undefined;
  startedAt: string | undefined;
  intervalMs: number | undefined;
  checks: Check[];
  outbox:
    | {
        pending: number | undefined;
        oldestPendingAgeMs: number | undefined;
        quarantined: number | undefined;
      }
    | undefined;
  dlq:
    | {
        sent: number | undefined;
        byTopic: [string, number][];
        last: { topic: string; reason: string; at: string | undefined } | undefined;
      }
    | undefined;
  consumers: Consumer[] | undefined;
};

export type Health = {
  instances: Instance[];
  /** The gateway answering this page: its own readiness and checks. */
  gateway: { ready: boolean; checks: Check[] } | undefined;
  staleAfterIntervals: number | undefined;
};

export function health(data: unknown): Health {
  const instances: Instance[] = [];
  for (const s of listIn(data, "services")) {
    if (!isObj(s)) continue;
    // `{ service, instances: [...] }`, or an instance itself.
    const list = Array.isArray(s.instances) ? s.instances : [s];
    for (const raw of list) {
      const i = instance(raw, str(s.service));
      if (i) instances.push(i);
    }
  }
  const g = isObj(data) && isObj(data.gateway) ? data.gateway : undefined;
  return {
    instances,
    gateway: g ? { ready: g.status === "ready", checks: checksOf(g.checks) } : undefined,
    staleAfterIntervals: isObj(data) ? num(data.staleAfterIntervals) : undefined,
  };
}

/** Checks as a list (heartbeats) or a record by name (the gateway's own readiness). */
function checksOf(v: unknown): Check[] {
  const entries: [string | undefined, unknown][] = Array.isArray(v)
    ? v.map((c) => [isObj(c) ? str(c.name) : undefined, c])
    : isObj(v)
      ? Object.entries(v)
      : [];
  return entries.flatMap(([name, c]): Check[] =>
    name && isObj(c)
      ? [
          {
            name,
            status: str(c.status) ?? "unknown",
            required: c.required !== false,
            reason: str(c.reason),
          },
        ]
      : [],
  );
}

function instance(raw: unknown, service: string | undefined): Instance | undefined {
  if (!isObj(raw)) return undefined;
  const name = str(raw.service) ?? service;
  if (!name) return undefined;
  const outbox = isObj(raw.outbox) ? raw.outbox : undefined;
  const dlq = isObj(raw.dlq) ? raw.dlq : undefined;
  const last = dlq && isObj(dlq.last) ? dlq.last : undefined;
  return {
    service: name,
    instance: str(raw.instance) ?? "—",
    version: str(raw.version),
    ready: raw.ready === true,
    stale: raw.stale === true,
    lastHeardAt: str(raw.lastHeardAt) ?? str(raw.at),
    silentMs: num(raw.silentMs),
    startedAt: str(raw.startedAt),
    intervalMs: num(raw.intervalMs),
    checks: checksOf(raw.checks),
    outbox: outbox
      ? {
          pending: num(outbox.pending),
          oldestPendingAgeMs: num(outbox.oldestPendingAgeMs),
          quarantined: num(outbox.quarantined),
        }
      : undefined,
    dlq: dlq
      ? {
          sent: num(dlq.sent),
          byTopic: isObj(dlq.byTopic)
            ? Object.entries(dlq.byTopic).flatMap(([t, n]): [string, number][] =>
                typeof n === "number" ? [[t, n]] : [],
              )
            : [],
          last: last
            ? { topic: str(last.topic) ?? "", reason: str(last.reason) ?? "", at: str(last.at) }
            : undefined,
        }
      : undefined,
    consumers: Array.isArray(raw.consumers)
      ? raw.consumers.flatMap((c): Consumer[] =>
          isObj(c)
            ? [
                {
                  topic: str(c.topic) ?? "",
                  group: str(c.group) ?? "",
                  status: str(c.status),
                  lag: num(c.lag),
                },
              ]
            : [],
        )
      : undefined,
  };
}

/** One message parked in a DLQ (the gateway keeps where and why, never the message). */
export type DlqMessage = {
  /** The topic it failed on (its DLQ is `<topic>.dlq`). */
  topic: string;
  partition: number | undefined;
  offset: string | undefined;
  eventId: string | undefined;
  eventType: string | undefined;
  reason: string;
  /** poison, non-retryable, validation, attempts-exhausted. */
  failureKind: string | undefined;
  attempts: number | undefined;
  consumerGroup: string | undefined;
  parkedAt: string | undefined;
  /** Set once this gateway redrove it. */
  redriven: { at: string | undefined; by: string | undefined } | undefined;
};

/** How many wait in one DLQ (null: the DLQ tool could not count). */
export type DlqDepth = { topic: string; dlqTopic: string; waiting: number | null };

export type Dlq = {
  messages: DlqMessage[];
  depths: DlqDepth[];
  /** False: this gateway cannot redrive (no DLQ tool for its bus). */
  canRedrive: boolean;
  retained: number | undefined;
  max: number | undefined;
};

export function dlq(data: unknown): Dlq {
  const d = isObj(data) ? data : {};
  return {
    messages: listIn(data, "messages").flatMap((raw): DlqMessage[] => {
      if (!isObj(raw)) return [];
      const topic = str(raw.topic);
      if (!topic) return [];
      const offset = raw.offset;
      const redriven = isObj(raw.redriven) ? raw.redriven : undefined;
      return [
        {
          topic,
          partition: num(raw.partition),
          offset:
            typeof offset === "string" || typeof offset === "number" ? String(offset) : undefined,
          eventId: str(raw.eventId),
          eventType: str(raw.eventType),
          reason: str(raw.reason) ?? "no reason recorded",
          failureKind: str(raw.failureKind),
          attempts: num(raw.attempts),
          consumerGroup: str(raw.consumerGroup),
          parkedAt: str(raw.parkedAt),
          redriven: redriven ? { at: str(redriven.at), by: str(redriven.by) } : undefined,
        },
      ];
    }),
    depths: listIn(d.topics).flatMap((raw): DlqDepth[] => {
      if (!isObj(raw) || !str(raw.topic)) return [];
      const topic = str(raw.topic) ?? "";
      return [
        {
          topic,
          dlqTopic: str(raw.dlqTopic) ?? `${topic}.dlq`,
          waiting: num(raw.waiting) ?? null,
        },
      ];
    }),
    canRedrive: !(isObj(d.redrive) && d.redrive.available === false),
    retained: num(d.retained),
    max: num(d.max),
  };
}
