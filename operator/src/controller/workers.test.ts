import { setImmediate as realSetImmediate } from "node:timers";
import pino, { type Logger } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSystemClock } from "../lib/clock.ts";
import { WorkQueue } from "./work-queue.ts";
import { type ReconcileResult, runWorkers, TerminalError, type WorkerPool } from "./workers.ts";

type LogLine = { level: number; msg: string; key?: string; err?: { message: string } };

function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

/** One turn of the real event loop: workers yield one between reconciles. */
const loopTurn = () => new Promise<void>((r) => realSetImmediate(r));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let pool: WorkerPool | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(async () => {
  await pool?.stop();
  pool = undefined;
  vi.useRealTimers();
});

function start(
  reconcile: (key: string, signal: AbortSignal) => Promise<ReconcileResult>,
  workers = 2,
): { queue: WorkQueue; lines: LogLine[]; pool: WorkerPool } {
  const queue = new WorkQueue({ clock: createSystemClock() });
  const { log, lines } = captureLog();
  pool = runWorkers({ queue, workers, reconcile, log });
  return { queue, lines, pool };
}

describe("runWorkers", () => {
  it("reconciles a key added many times before processing once, and counts successes", async () => {
    const seen: string[] = [];
    const queue = new WorkQueue({ clock: createSystemClock() });
    for (const key of ["ns/a", "ns/a", "ns/b", "ns/a"]) queue.add(key);
    pool = runWorkers({
      queue,
      workers: 2,
      log: captureLog().log,
      reconcile: async (key) => {
        seen.push(key);
        return {};
      },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.sort()).toEqual(["ns/a", "ns/b"]);
    expect(pool.stats().reconciles.success).toBe(2);
    expect(pool.stats().inFlight).toBe(0);
  });

  it("retries a failing key with growing backoff, then forgets it after success", async () => {
    const attempts: number[] = [];
    let failuresLeft = 3;
    const { queue, pool, lines } = start(async () => {
      attempts.push(Date.now());
      if (failuresLeft-- > 0) throw new Error("apply failed: conflict");
      return {};
    });
    const t0 = Date.now();
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(100);
    expect(attempts.map((t) => t - t0)).toEqual([0, 5, 15, 35]);
    expect(queue.numRequeues("ns/a")).toBe(0);
    expect(pool.stats().reconciles).toMatchObject({ error: 3, success: 1 });
    const warn = lines.find((l) => l.msg.startsWith("reconcile failed; retrying"));
    expect(warn).toMatchObject({ key: "ns/a", err: { message: "apply failed: conflict" } });
  });

  it("requeue (a stale read, not a failure) looks again with growing backoff and logs no warning", async () => {
    const attempts: number[] = [];
    let staleLeft = 3;
    const { queue, pool, lines } = start(async () => {
      attempts.push(Date.now());
      return staleLeft-- > 0 ? { requeue: true } : {};
    });
    const t0 = Date.now();
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(100);
    expect(attempts.map((t) => t - t0)).toEqual([0, 5, 15, 35]);
    expect(queue.numRequeues("ns/a")).toBe(0);
    expect(pool.stats().reconciles).toMatchObject({ requeue: 3, success: 1, error: 0 });
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it("does not retry a TerminalError and logs it", async () => {
    let calls = 0;
    const { queue, pool, lines } = start(async () => {
      calls++;
      throw new TerminalError("spec.replicas and spec.autoscaling are both set");
    });
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(queue.delayedLen()).toBe(0);
    expect(pool.stats().reconciles.terminal).toBe(1);
    expect(lines.some((l) => l.level === 50 && l.err?.message.includes("both set"))).toBe(true);
  });

  it("requeues after requeueAfterMs and resets the failure history", async () => {
    const calls: number[] = [];
    const { queue, pool } = start(async () => {
      calls.push(Date.now());
      if (calls.length === 1) throw new Error("transient");
      return calls.length === 2 ? { requeueAfterMs: 30_000 } : {};
    });
    const t0 = Date.now();
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(10);
    expect(queue.numRequeues("ns/a")).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.map((t) => t - t0)).toEqual([0, 5, 30_005]);
    expect(pool.stats().reconciles).toMatchObject({ error: 1, requeue: 1, success: 1 });
  });

  it("survives a reconcile that throws synchronously or throws a non-Error", async () => {
    let calls = 0;
    const { queue, pool } = start(((key: string) => {
      calls++;
      if (key === "ns/sync") throw new Error("boom before any await");
      return Promise.reject("a string");
    }) as (key: string) => Promise<ReconcileResult>);
    queue.add("ns/sync");
    queue.add("ns/str");
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.stats().reconciles.error).toBe(2);
    expect(calls).toBe(2);
    expect(queue.delayedLen()).toBe(2);
  });

  it("never runs one key concurrently, and re-runs it when it changed during a reconcile", async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const gate = deferred();
    const { queue } = start(async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (calls === 1) await gate.promise;
      running--;
      return {};
    }, 4);
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it("runs different keys in parallel up to the worker count", async () => {
    const gate = deferred();
    const { queue, pool } = start(async () => {
      await gate.promise;
      return {};
    }, 3);
    for (const key of ["ns/a", "ns/b", "ns/c", "ns/d"]) queue.add(key);
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.stats()).toMatchObject({ inFlight: 3, queueDepth: 1 });
    gate.resolve();
    await vi.advanceTimersByTimeAsync(0);
    await loopTurn();
    await vi.advanceTimersByTimeAsync(0);
    expect(pool.stats()).toMatchObject({ inFlight: 0, queueDepth: 0 });
    expect(pool.stats().reconciles.success).toBe(4);
  });

  it("stop aborts the signal, waits for in-flight reconciles and starts no new ones", async () => {
    const gate = deferred();
    const seen: string[] = [];
    let abortedSeen = false;
    const { queue, pool } = start(async (key, signal) => {
      seen.push(key);
      await gate.promise;
      abortedSeen = signal.aborted;
      return {};
    }, 1);
    queue.add("ns/a");
    queue.add("ns/b");
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = pool.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(abortedSeen).toBe(true);
    expect(seen).toEqual(["ns/a"]);
    expect(queue.processingLen()).toBe(0);
  });

  it("rejects a worker count below 1", () => {
    const queue = new WorkQueue({ clock: createSystemClock() });
    expect(() =>
      runWorkers({ queue, workers: 0, reconcile: async () => ({}), log: pino({ level: "silent" }) }),
    ).toThrow(/workers must be/);
  });
});

describe("runWorkers under churn", () => {
  it("a reconcile that finds its object gone releases the key's delayed add and backoff", async () => {
    let gone = false;
    const { queue } = start(async () => (gone ? { gone: true } : { requeueAfterMs: 60_000 }));
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.delayedLen()).toBe(1);
    // The delete event: the object is gone before its timed look.
    gone = true;
    queue.add("ns/a");
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.delayedLen()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("runWorkers and the event loop", () => {
  it("lets I/O run between reconciles that never wait on I/O (a resync of thousands of settled objects)", async () => {
    vi.useRealTimers();
    const queue = new WorkQueue({ clock: createSystemClock() });
    for (let i = 0; i < 2000; i++) queue.add(`ns/m-${i}`);
    let done = 0;
    const all = deferred();
    // What the event loop's next turn sees: the health server's request, a watch event, a timer.
    let doneWhenLoopTurned: number | undefined;
    setImmediate(() => {
      doneWhenLoopTurned = done;
    });
    pool = runWorkers({
      queue,
      workers: 4,
      log: captureLog().log,
      reconcile: async () => {
        // ~0.1 ms of work each, as rendering and comparing a settled object's children takes.
        const until = performance.now() + 0.1;
        while (performance.now() < until) {}
        done += 1;
        if (done === 2000) all.resolve();
        return {};
      },
    });
    await all.promise;
    // 2,000 × 0.1 ms is 200 ms of reconciles; the loop gets its turn within the first ~10 ms of them.
    expect(doneWhenLoopTurned).toBeDefined();
    expect(doneWhenLoopTurned).toBeLessThanOrEqual(400);
  });
});
