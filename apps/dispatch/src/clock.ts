/**
 * The clock port dispatch plans with. Real time by default; the demo runs it faster
 * (`DISPATCH_CLOCK_SCALE`) so that days of cadence pass in minutes; tests hand in their own.
 * Every time dispatch stores (due, lease, sent) is on this clock, and a real-time span
 * (a lease, a retry's backoff) is stretched by the scale so it means the same.
 */
export type Clock = {
  now(): Date;
  /** The clock time `realMs` of wall-clock time from now. */
  after(realMs: number): Date;
};

export function scaledClock(scale = 1, wall: () => number = Date.now): Clock {
  const origin = wall();
  const now = () => new Date(scale === 1 ? wall() : origin + (wall() - origin) * scale);
  return { now, after: (realMs) => new Date(now().getTime() + realMs * scale) };
}

/** A clock tests move by hand. */
export function manualClock(
  start: Date | string,
): Clock & { set(t: Date | string): void; advance(ms: number): void } {
  let t = new Date(start).getTime();
  return {
    now: () => new Date(t),
    after: (ms) => new Date(t + ms),
    set: (v) => {
      t = new Date(v).getTime();
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
