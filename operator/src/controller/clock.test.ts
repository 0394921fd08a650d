import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock, sleep } from "./clock.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("clock", () => {
  it("the system clock follows (fake) time and its timers can be cleared", () => {
    const clock = createSystemClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("kept"), 100);
    const cancelled = clock.setTimeout(() => fired.push("cancelled"), 50);
    clock.clearTimeout(cancelled);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(["kept"]);
    expect(clock.now()).toBe(1_000_100);
  });

  it("sleep resolves after the delay, or rejects with the abort reason and clears its timer", async () => {
    const clock = createSystemClock();
    let slept = false;
    const done = sleep(clock, 500).then(() => {
      slept = true;
    });
    await vi.advanceTimersByTimeAsync(499);
    expect(slept).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(slept).toBe(true);

    const controller = new AbortController();
    const aborted = sleep(clock, 500, controller.signal);
    controller.abort(new Error("shutting down"));
    await expect(aborted).rejects.toThrow("shutting down");
    expect(vi.getTimerCount()).toBe(0);
    await expect(sleep(clock, 1, controller.signal)).rejects.toThrow("shutting down");
  });
});
