/**
 * Topic `service.health.v1` — what each running service says about itself, every
 * HEALTH_EVERY_MS: readiness with each check, its outbox, what it parked in a DLQ since
 * it started, its consumers. Published straight on the bus by the service kit (not
 * through an outbox: a heartbeat is worth nothing once the next one is due, so a lost
 * one is skipped, never retried). Keyed by `service:<name>`, so one service's heartbeats
 * stay in order; the gateway keeps the latest per instance in memory (the Health page).
 *
 * `service.readiness_changed.v1` is never published: the gateway derives it from the
 * heartbeats (an instance's readiness flipped, or it went silent) and writes it into its
 * live stream, where the dashboard reads it with the other rows of this topic.
 */
import { z } from "zod";
import { eventSchema, IsoTime } from "./envelope.ts";

/** Subject and key of a service's heartbeats. */
export const serviceSubject = (service: string) => `service:${service}`;

const name = z.string().min(1).max(100);
const count = z.number().int().min(0);

export const HealthCheck = z.object({
  name,
  status: z.enum(["ok", "down", "not_configured"]),
  /** A required check that is down makes the service not ready. */
  required: z.boolean(),
  reason: z.string().max(1000).optional(),
});
export type HealthCheck = z.infer<typeof HealthCheck>;

export const ServiceHealthV1 = eventSchema(
  "service.health.v1",
  z.object({
    service: name,
    /** `host:pid` (a second instance of the same service in one process gets `/2`…). */
    instance: z.string().min(1).max(200),
    /** SERVICE_VERSION: an image tag or commit; `dev` when unset. */
    version: z.string().min(1).max(100),
    startedAt: IsoTime,
    at: IsoTime,
    /** This service's HEALTH_EVERY_MS: silent for 3× this long, it counts as stale. */
    intervalMs: z.number().int().positive(),
    /** What `/readyz` would answer now: no required check down. */
    ready: z.boolean(),
    checks: z.array(HealthCheck).max(50),
    /** Summed over the service's outbox tables; absent when it has none. */
    outbox: z
      .object({
        /** Rows waiting for the relay (quarantined rows excluded). */
        pending: count,
        /** Age of the oldest of them (0 when none). */
        oldestPendingAgeMs: z.number().min(0),
        /** Rows the broker refused for good, waiting for an operator. */
        quarantined: count,
      })
      .optional(),
    /** Messages this instance parked in a DLQ since it started. */
    dlq: z.object({
      sent: count,
      byTopic: z.record(z.string().max(200), count),
      last: z
        .object({ topic: z.string().max(200), reason: z.string().max(1000), at: IsoTime })
        .optional(),
    }),
    consumers: z
      .array(
        z.object({
          topic: z.string().max(200),
          group: z.string().max(300),
          /** stalled: a partition is held by a transient failure (see `/readyz`). */
          status: z.enum(["ok", "stalled"]),
          /** Messages behind the end of its partitions, where the adapter knows it cheaply. */
          lag: count.optional(),
        }),
      )
      .max(100),
  }),
);
export type ServiceHealthV1 = z.infer<typeof ServiceHealthV1>;

export const ServiceReadinessChangedV1 = eventSchema(
  "service.readiness_changed.v1",
  z.object({
    service: name,
    instance: z.string().min(1).max(200),
    ready: z.boolean(),
    /** Before: null when the gateway had not heard from this instance yet. */
    was: z.boolean().nullable(),
    /** True when it flipped because the instance went silent (3× its interval). */
    stale: z.boolean(),
    /** The required checks that are down, or why it counts as stale; absent when ready. */
    reason: z.string().max(2000).optional(),
    /** When the heartbeat that flipped it was sent (or when silence was noticed). */
    at: IsoTime,
  }),
);
export type ServiceReadinessChangedV1 = z.infer<typeof ServiceReadinessChangedV1>;

export const ServiceHealth = z.discriminatedUnion("type", [
  ServiceHealthV1,
  ServiceReadinessChangedV1,
]);
export type ServiceHealth = z.infer<typeof ServiceHealth>;
