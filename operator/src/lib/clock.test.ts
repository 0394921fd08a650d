import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock, ManualClock, sleep } from "./clock.ts";

describe("system clock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

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

  it("the system clock's timers hold the process unless asked not to", () => {
    const held = createSystemClock().setTimeout(() => {}, 10) as unknown as NodeJS.Timeout;
    const loose = createSystemClock({ unrefTimers: true }).setTimeout(
      () => {},
      10,
    ) as unknown as NodeJS.Timeout;
    expect(held.hasRef()).toBe(true);
    expect(loose.hasRef()).toBe(false);
  });
});

describe("ManualClock", () => {
  it("moves only when told to, and fires due timers earliest first, ties in the order set", () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push("cancelled"), 5);
    clock.clearTimeout(cancelled);
    clock.advance(15);
    expect(fired).toEqual(["a@10"]);
    expect([clock.now(), clock.monotonic()]).toEqual([15, 15]);
    clock.advance(100);
    expect(fired).toEqual(["a@10", "b@20", "c@20"]);
    expect(clock.now()).toBe(115);
    expect(clock.pending()).toBe(0);
  });

  it("advanceAsync lets the work a timer wakes run before the next instant", async () => {
    const clock = new ManualClock(0);
    const log: string[] = [];
    const worker = async () => {
      await sleep(clock, 10);
      log.push(`woke@${clock.now()}`);
      await sleep(clock, 10); // set only after the first wake-up: a sync advance would miss it
      log.push(`woke again@${clock.now()}`);
    };
    const done = worker();
    await clock.advanceAsync(30);
    await done;
    expect(log).toEqual(["woke@10", "woke again@20"]);
    expect(clock.now()).toBe(30);
  });
});
