import { describe, expect, it } from "vitest";
import { TimeoutError, withTimeout } from "./timeout.ts";

/** A call that only ends when its signal aborts, like a request to a hung server. */
const hang = (signal: AbortSignal) =>
  new Promise<never>((_, reject) =>
    signal.addEventListener("abort", () => reject(new Error("aborted by signal"))),
  );

describe("withTimeout", () => {
  it("rejects with TimeoutError when the deadline passes and aborts the call's signal", async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    const error = await withTimeout((signal) => {
      seen = signal;
      return hang(signal);
    }, 30).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: "TimeoutError", timeoutMs: 30 });
    expect(seen?.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("rejects at the deadline even when the call ignores its signal", async () => {
    const started = Date.now();
    const never = new Promise<never>(() => {});
    await expect(withTimeout(() => never, 30)).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("returns the result of a call that finishes in time, leaving its signal alone", async () => {
    let seen: AbortSignal | undefined;
    const value = await withTimeout(async (signal) => {
      seen = signal;
      return 42;
    }, 1_000);
    expect(value).toBe(42);
    expect(seen?.aborted).toBe(false);
  });

  it("passes the call's own error through", async () => {
    await expect(
      withTimeout(async () => {
        throw new Error("boom");
      }, 1_000),
    ).rejects.toThrow("boom");
  });

  it("rejects with the caller's reason when the caller aborts first", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const run = withTimeout(
      (signal) => {
        seen = signal;
        return hang(signal);
      },
      10_000,
      controller.signal,
    );
    controller.abort(new Error("shutting down"));
    await expect(run).rejects.toThrow("shutting down");
    expect(seen?.aborted).toBe(true);
  });
});
