import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type BreakerState, CircuitOpenError, createCircuitBreaker } from "./breaker.ts";

const fail = async (): Promise<string> => {
  throw new Error("down");
};
const ok = async () => "ok";
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof CircuitOpenError ? "circuit_open" : "error"),
  );

describe("circuit breaker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("opens after consecutive failures, fails fast, half-opens after the cooldown, closes on a good probe", async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 10_000 });
    const states: BreakerState[] = [];
    breaker.onStateChange((s) => states.push(s));
    for (let i = 0; i < 3; i++) expect(await outcome(breaker.execute(fail))).toBe("error");
    expect(breaker.state()).toBe("open");

    const fn = vi.fn(ok);
    expect(await outcome(breaker.execute(fn))).toBe("circuit_open");
    expect(fn).not.toHaveBeenCalled();

    vi.advanceTimersByTime(9_999);
    expect(breaker.state()).toBe("open");
    vi.advanceTimersByTime(1);
    expect(breaker.state()).toBe("half_open");
    expect(await outcome(breaker.execute(fn))).toBe("ok");
    expect(fn).toHaveBeenCalledTimes(1);
    expect(breaker.state()).toBe("closed");
    expect(states).toEqual(["open", "half_open", "closed"]);
  });

  it("re-opens at once when the probe fails", async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 });
    for (let i = 0; i < 2; i++) await outcome(breaker.execute(fail));
    vi.advanceTimersByTime(1_000);
    expect(await outcome(breaker.execute(fail))).toBe("error");
    expect(breaker.state()).toBe("open");
    expect(await outcome(breaker.execute(ok))).toBe("circuit_open");
  });

  it("lets a single probe through while half-open and fails the others fast", async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000 });
    await outcome(breaker.execute(fail));
    vi.advanceTimersByTime(1_000);
    let finish: (v: string) => void = () => {};
    const probe = breaker.execute(() => new Promise<string>((r) => (finish = r)));
    expect(breaker.state()).toBe("half_open");
    const other = vi.fn(ok);
    expect(await outcome(breaker.execute(other))).toBe("circuit_open");
    expect(other).not.toHaveBeenCalled();
    finish("done");
    expect(await probe).toBe("done");
    expect(breaker.state()).toBe("closed");
  });

  it("a success resets the count; errors that are not failures are not counted", async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 2,
      cooldownMs: 1_000,
      isFailure: (e) => (e as Error).message === "down",
    });
    await outcome(breaker.execute(fail));
    await outcome(breaker.execute(ok));
    await outcome(breaker.execute(fail));
    expect(breaker.state()).toBe("closed");
    const rejected = async (): Promise<string> => {
      throw new Error("bad request");
    };
    await expect(breaker.execute(rejected)).rejects.toThrow("bad request");
    expect(breaker.state()).toBe("closed");
    await outcome(breaker.execute(fail));
    expect(breaker.state()).toBe("open");
  });
});
