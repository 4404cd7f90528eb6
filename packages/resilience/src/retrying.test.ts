import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type RetryEvent, retrying } from "./retrying.ts";

class Flaky extends Error {
  readonly transient: boolean;
  readonly retryAfterMs?: number;
  constructor(transient = true, retryAfterMs?: number) {
    super(transient ? "transient" : "permanent");
    this.transient = transient;
    this.retryAfterMs = retryAfterMs;
  }
}
const retryable = (e: unknown) => e instanceof Flaky && e.transient;
const fast = { initialMs: 1, maxMs: 2 };

describe("retrying", () => {
  it("retries until the call succeeds, reporting each retry", async () => {
    const events: RetryEvent[] = [];
    const seen: number[] = [];
    const result = await retrying(
      async ({ attempt }) => {
        seen.push(attempt);
        if (attempt < 3) throw new Flaky();
        return "done";
      },
      { attempts: 5, backoff: fast, retryable, onRetry: (e) => events.push(e) },
    );
    expect(result).toBe("done");
    expect(seen).toEqual([1, 2, 3]);
    expect(events.map((e) => e.attempt)).toEqual([1, 2]);
    expect(events.every((e) => e.error instanceof Flaky && e.delayMs <= 2)).toBe(true);
  });

  it("gives up after `attempts` calls with the last error", async () => {
    let calls = 0;
    const error = await retrying(
      async () => {
        calls++;
        throw new Flaky();
      },
      { attempts: 3, backoff: fast, retryable },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Flaky);
    expect(calls).toBe(3);
  });

  it("does not retry an error that is not retryable", async () => {
    let calls = 0;
    await expect(
      retrying(
        async () => {
          calls++;
          throw new Flaky(false);
        },
        { attempts: 5, backoff: fast, retryable },
      ),
    ).rejects.toThrow("permanent");
    expect(calls).toBe(1);
  });

  describe("with a server's Retry-After", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("waits what the error asks instead of its own backoff", async () => {
      const calls: number[] = [];
      const run = retrying(
        async () => {
          calls.push(Date.now());
          if (calls.length === 1) throw new Flaky(true, 2_000);
          return "ok";
        },
        { attempts: 2, backoff: { initialMs: 10, maxMs: 10 }, retryable },
      );
      await vi.advanceTimersByTimeAsync(1_999);
      expect(calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(await run).toBe("ok");
      expect(calls[1]! - calls[0]!).toBe(2_000);
    });

    it("gives up at once when the server asks for longer than maxRetryAfterMs", async () => {
      let calls = 0;
      const run = retrying(
        async () => {
          calls++;
          throw new Flaky(true, 30_000);
        },
        { attempts: 3, retryable, maxRetryAfterMs: 5_000 },
      );
      await expect(run).rejects.toBeInstanceOf(Flaky);
      expect(calls).toBe(1);
    });
  });

  it("stops waiting and retrying when its signal aborts", async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = retrying(
      async () => {
        calls++;
        throw new Flaky(true, 60_000);
      },
      {
        attempts: 5,
        retryable,
        signal: controller.signal,
        onRetry: () => setImmediate(() => controller.abort(new Error("shutting down"))),
      },
    );
    const started = Date.now();
    await expect(run).rejects.toThrow("shutting down");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls).toBe(1);
  });

  it("does not call at all with an aborted signal", async () => {
    const fn = vi.fn(async () => "x");
    await expect(
      retrying(fn, { attempts: 3, signal: AbortSignal.abort(new Error("gone")) }),
    ).rejects.toThrow("gone");
    expect(fn).not.toHaveBeenCalled();
  });
});
