import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock } from "./clock.ts";
import { TokenBucket } from "./token-bucket.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("TokenBucket", () => {
  it("lets a burst through, then spaces reservations at 1/qps, in order", () => {
    const bucket = new TokenBucket({ qps: 10, burst: 3, clock: createSystemClock() });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect([bucket.reserve(), bucket.reserve()]).toEqual([100, 200]);
  });

  it("refills with time, never above the burst", () => {
    const bucket = new TokenBucket({ qps: 10, burst: 3, clock: createSystemClock() });
    for (let i = 0; i < 3; i++) bucket.reserve();
    vi.advanceTimersByTime(100);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(100);
    vi.advanceTimersByTime(60_000);
    expect(bucket.available()).toBe(3);
  });

  it("gives a cancelled reservation's token back", () => {
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock: createSystemClock() });
    bucket.reserve();
    expect(bucket.available()).toBe(0);
    bucket.cancel();
    expect(bucket.reserve()).toBe(0);
  });

  it("rejects a zero rate", () => {
    expect(() => new TokenBucket({ qps: 0, burst: 1, clock: createSystemClock() })).toThrow(/qps/);
  });
});
