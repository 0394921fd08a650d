import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock } from "../lib/clock.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { Fifo, objectKey, Priority, splitObjectKey, WorkQueue } from "./work-queue.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

function newQueue(rateLimiter?: RateLimiter): WorkQueue {
  return new WorkQueue({ clock: createSystemClock(), rateLimiter });
}

/** Takes whatever is queued now, without waiting. */
async function drainNow(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = await queue.get();
    if (key === undefined) break;
    keys.push(key);
  }
  return keys;
}

describe("WorkQueue", () => {
  it("hands out keys in FIFO order and de-duplicates keys added before processing", async () => {
    const queue = newQueue();
    for (const key of ["ns/a", "ns/b", "ns/a", "ns/c", "ns/b", "ns/a"]) queue.add(key);
    expect(queue.len()).toBe(3);
    expect(await drainNow(queue)).toEqual(["ns/a", "ns/b", "ns/c"]);
  });

  it("never hands out a key that is being processed; a re-add is processed again after done", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    const first = await queue.get();
    expect(first).toBe("ns/a");
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    // ns/a is held by a worker, so a second worker gets ns/b and nothing else.
    expect(await drainNow(queue)).toEqual(["ns/b"]);
    expect(queue.len()).toBe(0);
    queue.done("ns/a");
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("ns/a");
    queue.done("ns/a");
    queue.done("ns/b");
    expect(queue.len()).toBe(0);
  });

  it("wakes a waiting get() when a key arrives", async () => {
    const queue = newQueue();
    const waiting = queue.get();
    queue.add("ns/a");
    expect(await waiting).toBe("ns/a");
    expect(queue.processingLen()).toBe(1);
  });

  it("serves the normal lane before the low lane, FIFO within each", async () => {
    const queue = newQueue();
    queue.add("ns/resync-1", Priority.Low);
    queue.add("ns/resync-2", Priority.Low);
    queue.add("ns/changed-1");
    queue.add("ns/changed-2");
    expect(await drainNow(queue)).toEqual(["ns/changed-1", "ns/changed-2", "ns/resync-1", "ns/resync-2"]);
  });

  it("promotes a low-priority key when it is added at normal priority, and never demotes", async () => {
    const queue = newQueue();
    queue.add("ns/a", Priority.Low);
    queue.add("ns/b", Priority.Low);
    queue.add("ns/c");
    queue.add("ns/b");
    queue.add("ns/c", Priority.Low);
    expect(queue.len()).toBe(3);
    expect(await drainNow(queue)).toEqual(["ns/c", "ns/b", "ns/a"]);
  });

  it("keeps the priority of a key re-added during processing", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    await queue.get();
    queue.add("ns/a", Priority.Low);
    queue.add("ns/b");
    queue.done("ns/a");
    expect(await drainNow(queue)).toEqual(["ns/b", "ns/a"]);
  });

  it("addAfter adds the key when it is due", async () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 1000);
    expect(queue.len()).toBe(0);
    expect(queue.delayedLen()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(queue.len()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(queue.len()).toBe(1);
    expect(queue.delayedLen()).toBe(0);
  });

  it("addAfter holds a delay past Node's timer limit instead of firing at once", async () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 720 * 3600 * 1000);
    vi.advanceTimersByTime(1000);
    expect(queue.len()).toBe(0);
    vi.advanceTimersByTime(2 ** 31);
    expect(queue.len()).toBe(1);
  });

  it("addAfter keeps the earliest due time per key", async () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 5000);
    queue.addAfter("ns/a", 1000);
    queue.addAfter("ns/a", 3000);
    expect(queue.delayedLen()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(await drainNow(queue)).toEqual(["ns/a"]);
    queue.done("ns/a");
    // The later due times were dropped, not kept as extra adds.
    vi.advanceTimersByTime(10_000);
    expect(queue.len()).toBe(0);
  });

  it("addAfter with no delay adds at once", () => {
    const queue = newQueue();
    queue.addAfter("ns/a", 0);
    expect(queue.len()).toBe(1);
  });

  it("addRateLimited backs off exponentially per key, and forget resets the backoff", async () => {
    const queue = newQueue();
    const dueAfter = async (key: string): Promise<number> => {
      const start = Date.now();
      queue.addRateLimited(key);
      while (queue.len() === 0) vi.advanceTimersByTime(1);
      const got = await queue.get();
      expect(got).toBe(key);
      queue.done(key);
      return Date.now() - start;
    };
    expect([await dueAfter("ns/a"), await dueAfter("ns/a"), await dueAfter("ns/a")]).toEqual([5, 10, 20]);
    expect(queue.numRequeues("ns/a")).toBe(3);
    queue.forget("ns/a");
    expect(queue.numRequeues("ns/a")).toBe(0);
    expect(await dueAfter("ns/a")).toBe(5);
  });

  it("addRateLimited spaces many keys by the overall bucket", () => {
    const queue = new WorkQueue({ clock: createSystemClock() });
    for (let i = 0; i < 120; i++) queue.addRateLimited(`ns/k${i}`);
    // 100 burst tokens: the first 100 only wait the 5 ms base; the rest are spaced at 10 qps.
    vi.advanceTimersByTime(5);
    expect(queue.len()).toBe(100);
    vi.advanceTimersByTime(1000);
    expect(queue.len()).toBe(110);
    vi.advanceTimersByTime(1000);
    expect(queue.len()).toBe(120);
  });

  it("shutDown wakes waiters with undefined, ignores later adds and drops delayed keys", async () => {
    const queue = newQueue();
    queue.add("ns/a");
    expect(await queue.get()).toBe("ns/a");
    const waiting = queue.get();
    queue.addAfter("ns/b", 1000);
    queue.add("ns/c");
    queue.add("ns/d");
    queue.shutDown();
    expect(await waiting).toBe("ns/c");
    expect(await queue.get()).toBeUndefined();
    queue.add("ns/e");
    vi.advanceTimersByTime(5000);
    expect(queue.len()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // The worker that still holds ns/a may finish it.
    queue.done("ns/a");
    queue.done("ns/c");
    expect(queue.processingLen()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it("resolves every pending get() with undefined on shutDown", async () => {
    const queue = newQueue();
    const waits = [queue.get(), queue.get(), queue.get()];
    queue.shutDown();
    expect(await Promise.all(waits)).toEqual([undefined, undefined, undefined]);
  });

  it("stays correct over many keys (lane compaction)", async () => {
    const queue = newQueue();
    for (let i = 0; i < 5000; i++) queue.add(`ns/k${i}`);
    const got = await drainNow(queue);
    expect(got).toHaveLength(5000);
    expect(got[4999]).toBe("ns/k4999");
  });
});

describe("object keys", () => {
  it("round-trips namespaced and cluster-scoped keys", () => {
    expect(objectKey("shop", "recommender")).toBe("shop/recommender");
    expect(objectKey(undefined, "node-1")).toBe("node-1");
    expect(splitObjectKey("shop/recommender")).toEqual({ namespace: "shop", name: "recommender" });
    expect(splitObjectKey("node-1")).toEqual({ namespace: undefined, name: "node-1" });
  });
});

describe("WorkQueue under churn: nothing is kept for a key once its object is gone", () => {
  it("release drops a delayed add, its timer and the key's failure history; a pending add stays", async () => {
    const queue = newQueue();
    queue.addAfter("ns/gone", 60_000);
    queue.addRateLimited("ns/failing");
    queue.addRateLimited("ns/failing");
    expect(queue.delayedLen()).toBe(2);
    expect(vi.getTimerCount()).toBe(2);
    queue.release("ns/gone");
    queue.release("ns/failing");
    expect(queue.delayedLen()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(queue.numRequeues("ns/failing")).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(queue.len()).toBe(0);

    // An add for an object recreated under the same name is not lost.
    queue.add("ns/gone");
    queue.release("ns/gone");
    expect(await drainNow(queue)).toEqual(["ns/gone"]);
  });

  it("a drained lane holds none of the keys it handed out", async () => {
    const queue = newQueue();
    for (let i = 0; i < 100; i++) queue.add(`ns/m-${i}`, i % 2 === 0 ? Priority.Normal : Priority.Low);
    queue.add("ns/m-1"); // promoted: leaves a stale entry in the low lane
    for (const key of await drainNow(queue)) queue.done(key);
    expect(queue.heldLaneEntries()).toBe(0);
  });
});

describe("Fifo", () => {
  it("lets go of its array once every entry was shifted", () => {
    const fifo = new Fifo();
    for (let i = 0; i < 10; i++) fifo.push(`k${i}`);
    for (let i = 0; i < 9; i++) fifo.shift();
    expect(fifo.held).toBe(10);
    expect(fifo.shift()).toBe("k9");
    expect(fifo.held).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });
});
