/**
 * The Health page's board: the latest heartbeat of every service instance (from
 * `service.health.v1`, in memory), when it was last heard, and whether it went silent —
 * an instance not heard for 3× its own interval is stale and counts as not ready. When an
 * instance's readiness flips (a heartbeat says so, or it goes silent, or it comes back),
 * the board hands a `service.readiness_changed.v1` to `onFlip` (the read model stores it
 * in the live stream). Its id is derived from the heartbeat (or the last one before the
 * silence), so two gateway instances that see the same flip store one row.
 */
import {
  envelope,
  type ServiceHealthV1,
  type ServiceReadinessChangedV1,
  serviceSubject,
} from "@pw/events";

/** Silent for this many of its own intervals, an instance is stale. */
export const STALE_INTERVALS = 3;
/** A stale instance is dropped from the board after this long (or 10 intervals, if longer). */
const FORGET_AFTER_MS = 15 * 60_000;

type Entry = {
  heartbeat: ServiceHealthV1;
  /** Gateway clock (ms): senders' clocks are not compared with ours. */
  lastHeardAt: number;
  /** The readiness last reported on the stream for it: reported ready and not stale. */
  ready: boolean;
  stale: boolean;
};

export type InstanceView = Omit<ServiceHealthV1["data"], "ready"> & {
  /** Reported ready and not stale. */
  ready: boolean;
  /** What its last heartbeat said. */
  reportedReady: boolean;
  stale: boolean;
  lastHeardAt: string;
  /** Since it was last heard (ms). */
  silentMs: number;
};

export type ServiceView = {
  service: string;
  /** At least one instance heard recently, and every such instance ready. */
  ready: boolean;
  instances: InstanceView[];
};

export type HealthBoard = ReturnType<typeof healthBoard>;

export function healthBoard(o: {
  onFlip: (change: ServiceReadinessChangedV1) => void;
  now?: () => number;
}) {
  const now = o.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const keyOf = (service: string, instance: string) => `${service}\u0000${instance}`;

  const failing = (hb: ServiceHealthV1) =>
    hb.data.checks
      .filter((c) => c.required && c.status === "down")
      .map((c) => `${c.name}: ${c.reason ?? "down"}`)
      .join("; ");

  function flip(
    hb: ServiceHealthV1,
    change: { id: string; ready: boolean; was: boolean | null; stale: boolean; reason?: string },
    at: string,
  ) {
    o.onFlip(
      envelope({
        id: change.id,
        type: "service.readiness_changed.v1",
        source: "pw://gateway",
        subject: serviceSubject(hb.data.service),
        time: at,
        data: {
          service: hb.data.service,
          instance: hb.data.instance,
          ready: change.ready,
          was: change.was,
          stale: change.stale,
          ...(change.reason ? { reason: change.reason.slice(0, 2000) } : {}),
          at,
        },
      }),
    );
  }

  return {
    /** A heartbeat arrived (a late one, older than what the board holds, is ignored). */
    heard(hb: ServiceHealthV1): void {
      const key = keyOf(hb.data.service, hb.data.instance);
      const before = entries.get(key);
      if (before && Date.parse(hb.data.at) < Date.parse(before.heartbeat.data.at)) return;
      const ready = hb.data.ready;
      entries.set(key, { heartbeat: hb, lastHeardAt: now(), ready, stale: false });
      // A first heartbeat that says "ready" is no news (every gateway start would say it).
      const was = before ? before.ready : null;
      if (was === ready || (was === null && ready)) return;
      const reason = ready ? undefined : failing(hb) || "a required check is down";
      flip(
        hb,
        { id: `readiness:${hb.id}`, ready, was, stale: false, ...(reason ? { reason } : {}) },
        hb.data.at,
      );
    },

    /** Marks instances silent for too long as stale (flipping them), forgets long-gone ones. */
    sweep(): void {
      const t = now();
      for (const [key, e] of entries) {
        const silent = t - e.lastHeardAt;
        const interval = e.heartbeat.data.intervalMs;
        if (silent > Math.max(FORGET_AFTER_MS, 10 * interval)) {
          entries.delete(key);
          continue;
        }
        if (e.stale || silent <= STALE_INTERVALS * interval) continue;
        e.stale = true;
        if (!e.ready) continue;
        e.ready = false;
        flip(
          e.heartbeat,
          {
            id: `stale:${e.heartbeat.id}`,
            ready: false,
            was: true,
            stale: true,
            reason: `not heard for ${Math.round(silent / 1000)} s (${STALE_INTERVALS}× its ${interval} ms interval)`,
          },
          new Date(t).toISOString(),
        );
      }
    },

    /** Every known service with its instances, by name. */
    view(): ServiceView[] {
      const t = now();
      const byService = new Map<string, InstanceView[]>();
      for (const e of entries.values()) {
        const { ready: reportedReady, ...data } = e.heartbeat.data;
        const stale = e.stale || t - e.lastHeardAt > STALE_INTERVALS * data.intervalMs;
        const list = byService.get(data.service) ?? [];
        list.push({
          ...data,
          ready: reportedReady && !stale,
          reportedReady,
          stale,
          lastHeardAt: new Date(e.lastHeardAt).toISOString(),
          silentMs: t - e.lastHeardAt,
        });
        byService.set(data.service, list);
      }
      return [...byService]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([service, instances]) => {
          const live = instances.filter((i) => !i.stale);
          instances.sort((a, b) => a.instance.localeCompare(b.instance));
          return {
            service,
            ready: live.length > 0 && live.every((i) => i.ready),
            instances,
          };
        });
    },
  };
}
