import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock } from "../lib/clock.ts";
import {
  createControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
} from "./rate-limiter.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles the delay per failure up to the cap, per key, and forget resets it", () => {
    const limiter = new ItemExponentialFailureRateLimiter({ baseMs: 5, capMs: 1_000_000 });
    expect([1, 2, 3, 4].map(() => limiter.when("a"))).toEqual([5, 10, 20, 40]);
    expect(limiter.numRequeues("a")).toBe(4);
    expect(limiter.when("b")).toBe(5);
    for (let i = 0; i < 40; i++) limiter.when("a");
    expect(limiter.when("a")).toBe(1_000_000);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
    expect(limiter.when("a")).toBe(5);
  });

  it("stays at the cap after thousands of failures (no overflow to NaN)", () => {
    const limiter = new ItemExponentialFailureRateLimiter({ baseMs: 5, capMs: 1000 });
    for (let i = 0; i < 5000; i++) limiter.when("a");
    expect(limiter.when("a")).toBe(1000);
  });

  it("rejects nonsense settings with the values in the message", () => {
    expect(() => new ItemExponentialFailureRateLimiter({ baseMs: 10, capMs: 5 })).toThrow(/base 10, cap 5/);
  });
});

describe("controller rate limiter", () => {
  it("takes the larger of per-key backoff and the overall bucket", () => {
    const limiter = createControllerRateLimiter({
      clock: createSystemClock(),
      bucket: { qps: 10, burst: 2 },
    });
    // Burst covers the first two; per-key backoff is small, so the bucket dominates the third.
    expect(limiter.when("a")).toBe(5);
    expect(limiter.when("b")).toBe(5);
    expect(limiter.when("c")).toBe(100);
    // Per-key backoff dominates once it grows past the bucket's spacing.
    vi.advanceTimersByTime(10_000);
    for (let i = 0; i < 10; i++) limiter.when("a");
    expect(limiter.when("a")).toBeGreaterThanOrEqual(5 * 2 ** 11);
    expect(limiter.numRequeues("a")).toBe(12);
    limiter.forget("a");
    expect(limiter.numRequeues("a")).toBe(0);
  });

  it("MaxOf needs at least one limiter", () => {
    expect(() => new MaxOfRateLimiter([])).toThrow(/at least one/);
  });
});
