/**
 * The heartbeat every service built with `runService` publishes on `service.health.v1`
 * every HEALTH_EVERY_MS: the readiness `/readyz` would answer (the same checks, run the
 * same way), the outbox as the readiness check last read it, what this instance parked
 * in a DLQ since it started, and its consumers with their lag where the bus knows it.
 *
 * Straight on the bus, not through the outbox: a heartbeat is stale once the next one is
 * due, so one that cannot be published is logged at debug and skipped — never queued,
 * never retried, and a stop never waits for one.
 */
import { hostname } from "node:os";
import { type Bus, type Subscription, toMessage } from "@pw/bus";
import { envelope, ServiceHealthV1, serviceSubject, Topics } from "@pw/events";
import type { Logger } from "@pw/logger";
import type { Readiness } from "./ops.ts";
import type { OutboxSummary } from "./readiness-checks.ts";
import { reasonOf } from "./reason.ts";

type Parked = { topic: string; error: string; reason: string };

/** Messages this instance parked in a DLQ since it started: total, per topic, the last one. */
export function dlqTally(now: () => Date = () => new Date()) {
  let sent = 0;
  const byTopic: Record<string, number> = {};
  let last: { topic: string; reason: string; at: string } | undefined;
  return {
    record(p: Parked) {
      sent++;
      byTopic[p.topic] = (byTopic[p.topic] ?? 0) + 1;
      last = { topic: p.topic, reason: clip(`${p.reason}: ${p.error}`), at: now().toISOString() };
    },
    snapshot(): ServiceHealthV1["data"]["dlq"] {
      return { sent, byTopic: { ...byTopic }, ...(last ? { last: { ...last } } : {}) };
    },
  };
}
export type DlqTally = ReturnType<typeof dlqTally>;

/** Per service name, instances started in this process (the embedded demo, tests). */
const started = new Map<string, number>();

/** `host:pid`; a second instance of the same service in this process gets `/2`, and so on. */
export function instanceId(service: string): string {
  const n = (started.get(service) ?? 0) + 1;
  started.set(service, n);
  const base = `${hostname()}:${process.pid}`;
  return n === 1 ? base : `${base}/${n}`;
}

export type HeartbeatDeps = {
  service: string;
  bus: Bus;
  logger: Logger;
  everyMs: number;
  version: string;
  readiness: () => Promise<Readiness>;
  outbox: () => OutboxSummary | undefined;
  consumers: () => { topic: string; group: string; sub: Subscription }[];
  dlq: DlqTally;
  now?: () => Date;
};

export type Heartbeat = {
  readonly instance: string;
  /** Publishes one heartbeat now (skipped while one is in flight); true once the bus took it. */
  beat(): Promise<boolean>;
  start(): void;
  /** Stops the timer; a heartbeat in flight is abandoned, not awaited. */
  stop(): void;
};

export function createHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const now = deps.now ?? (() => new Date());
  const instance = instanceId(deps.service);
  const startedAt = now().toISOString();
  // A publish that hangs (broker gone) is given up after this long; the next beat tries anew.
  const publishTimeoutMs = Math.min(deps.everyMs, 5_000);
  let timer: NodeJS.Timeout | undefined;
  let inFlight = false;
  let stopped = false;
  let giveUp: (() => void) | undefined;

  async function build(): Promise<ServiceHealthV1> {
    const r = await deps.readiness();
    const outbox = deps.outbox();
    return envelope({
      type: "service.health.v1",
      source: `pw://${deps.service}`,
      subject: serviceSubject(deps.service),
      data: {
        service: deps.service,
        instance,
        version: deps.version,
        startedAt,
        at: now().toISOString(),
        intervalMs: deps.everyMs,
        ready: r.status === "ready",
        checks: Object.entries(r.checks)
          .slice(0, 50)
          .map(([name, c]) => ({
            name,
            status: c.status,
            required: c.required,
            ...(c.reason ? { reason: clip(c.reason) } : {}),
          })),
        ...(outbox ? { outbox } : {}),
        dlq: deps.dlq.snapshot(),
        consumers: deps
          .consumers()
          .slice(0, 100)
          .map(({ topic, group, sub }) => {
            const lag = sub.lag?.();
            return {
              topic,
              group,
              status: sub.health().status,
              ...(lag === undefined ? {} : { lag }),
            };
          }),
      },
    });
  }

  async function publish(event: ServiceHealthV1): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.bus.publish(Topics.serviceHealth, [toMessage(event)]),
        new Promise<never>((_, reject) => {
          giveUp = () => reject(new Error("stopping"));
          timeout = setTimeout(
            () => reject(new Error(`no acknowledgement within ${publishTimeoutMs} ms`)),
            publishTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timeout);
      giveUp = undefined;
    }
  }

  async function beat(): Promise<boolean> {
    if (inFlight || stopped) return false;
    inFlight = true;
    try {
      const event = ServiceHealthV1.parse(await build());
      if (stopped) return false;
      await publish(event);
      return true;
    } catch (error) {
      if (!stopped)
        deps.logger.debug({ reason: reasonOf(error) }, "heartbeat not published; skipped");
      return false;
    } finally {
      inFlight = false;
    }
  }

  return {
    instance,
    beat,
    start() {
      if (timer || stopped) return;
      void beat();
      timer = setInterval(() => void beat(), deps.everyMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      giveUp?.();
    },
  };
}

function clip(text: string, max = 1_000): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
