import { describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.ts";

describe("waitFor", () => {
  it("polls until the predicate is truthy and returns its value", async () => {
    let calls = 0;
    const value = await waitFor(() => ++calls >= 3 && `after ${calls}`, { intervalMs: 1 });
    expect(value).toBe("after 3");
    expect(calls).toBe(3);
  });

  it("awaits an async check and treats a throw as not yet", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        if (++calls < 3) throw new Error("not ready");
        return { rows: 2 };
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ rows: 2 });
  });

  it("fails with a message naming what it waited for, and the last error", async () => {
    const started = Date.now();
    const error = await waitFor(
      () => {
        throw new Error("connection refused");
      },
      { timeoutMs: 30, intervalMs: 5, message: "the broker" },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      "timed out after 30 ms waiting for the broker (last error: Error: connection refused)",
    );
    expect((error as Error).cause).toEqual(new Error("connection refused"));
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });

  it("checks at least once even with no time to wait", async () => {
    expect(await waitFor(() => 1, { timeoutMs: 0 })).toBe(1);
    await expect(waitFor(() => false, { timeoutMs: 0 })).rejects.toThrow(
      "waiting for the condition",
    );
  });
});
