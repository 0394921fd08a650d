import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock } from "../lib/clock.ts";
import { RequestLimiter } from "./request-limiter.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts n acquires and records when each one is let through. */
function acquireMany(limiter: RequestLimiter, n: number): number[] {
  const t0 = Date.now();
  const passedAt: number[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire().then(() => passedAt.push(Date.now() - t0));
  return passedAt;
}

describe("RequestLimiter", () => {
  it("lets the burst through at once, then holds callers to the QPS in arrival order", async () => {
    const limiter = new RequestLimiter({ clock: createSystemClock(), qps: 10, burst: 3 });
    const passedAt = acquireMany(limiter, 6);
    await vi.advanceTimersByTimeAsync(0);
    expect(passedAt).toEqual([0, 0, 0]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(passedAt).toEqual([0, 0, 0, 100, 200, 300]);
    expect(limiter.stats()).toEqual({ requests: 6, throttled: 3, waitedMs: 600, waiting: 0 });
  });

  it("defaults to 20 qps with a burst of 30", async () => {
    const limiter = new RequestLimiter({ clock: createSystemClock() });
    const passedAt = acquireMany(limiter, 50);
    await vi.advanceTimersByTimeAsync(999);
    expect(passedAt).toHaveLength(49);
    await vi.advanceTimersByTimeAsync(1);
    expect(passedAt).toHaveLength(50);
  });

  it("refills after a quiet period, up to the burst only", async () => {
    const limiter = new RequestLimiter({ clock: createSystemClock(), qps: 10, burst: 2 });
    acquireMany(limiter, 2);
    await vi.advanceTimersByTimeAsync(60_000);
    const passedAt = acquireMany(limiter, 3);
    await vi.advanceTimersByTimeAsync(0);
    expect(passedAt).toEqual([0, 0]);
    expect(limiter.stats().waiting).toBe(1);
  });

  it("rejects an aborted wait with the signal's reason and returns its token", async () => {
    const limiter = new RequestLimiter({ clock: createSystemClock(), qps: 1, burst: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    controller.abort(new Error("reconcile cancelled"));
    await expect(waiting).rejects.toThrow("reconcile cancelled");
    expect(limiter.stats().waiting).toBe(0);
    // The abandoned reservation does not delay the next caller.
    await vi.advanceTimersByTimeAsync(1000);
    const passedAt = acquireMany(limiter, 1);
    await vi.advanceTimersByTimeAsync(0);
    expect(passedAt).toEqual([0]);
  });

  it("run() waits for a token before calling", async () => {
    const limiter = new RequestLimiter({ clock: createSystemClock(), qps: 1, burst: 1 });
    const calledAt: number[] = [];
    const t0 = Date.now();
    const call = async (): Promise<string> => {
      calledAt.push(Date.now() - t0);
      return "ok";
    };
    const results = Promise.all([limiter.run(call), limiter.run(call)]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await results).toEqual(["ok", "ok"]);
    expect(calledAt).toEqual([0, 1000]);
  });

  it("rejects a bad configuration with the value in the message", () => {
    expect(() => new RequestLimiter({ clock: createSystemClock(), qps: -1 })).toThrow(/qps.*-1/);
  });
});
