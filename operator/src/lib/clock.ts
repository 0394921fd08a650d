// Time and timers, injected everywhere (controller, prober, kube) so tests drive time instead of
// waiting on the wall clock or patching globals: vitest fake timers through the system clock, or a
// ManualClock that moves only when told to.

import { performance } from "node:perf_hooks";

/** Opaque handle returned by Clock.setTimeout; only ever passed back to Clock.clearTimeout. */
export type TimerHandle = { readonly __timerHandle: unique symbol };

export interface Clock {
  /** Wall time: milliseconds since the epoch. Stamps what is written (leases, status); may jump. */
  now(): number;
  /**
   * Milliseconds since the epoch that never go back, with sub-millisecond precision: for intervals,
   * deadlines and schedules. Drifts from now() when the wall clock is adjusted.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface SystemClockOptions {
  /**
   * Timers do not keep the process alive (the prober's: a schedule alone must not hold a process
   * that is shutting down). Default false.
   */
  unrefTimers?: boolean;
}

/**
 * The real clock. Built per caller (no shared singleton); it reads the globals at call time, so
 * vitest fake timers also drive code that was handed this clock.
 */
export function createSystemClock(options: SystemClockOptions = {}): Clock {
  const unref = options.unrefTimers === true;
  return {
    now: () => Date.now(),
    monotonic: () => performance.timeOrigin + performance.now(),
    setTimeout: (fn, ms) => {
      const timer = globalThis.setTimeout(fn, ms);
      if (unref) timer.unref();
      return timer as unknown as TimerHandle;
    },
    clearTimeout: (handle) => globalThis.clearTimeout(handle as unknown as NodeJS.Timeout),
  };
}

/** Resolves after `ms` on the given clock; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface ManualTimer {
  at: number;
  fn: () => void;
}

/**
 * A clock for tests that moves only when told to; now() and monotonic() read the same time. Timers
 * fire in due order (ties in the order they were set) during `advance`, or during `advanceAsync`,
 * which also lets the promises that timers resolve run to completion between instants.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, ManualTimer>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as unknown as number);
  }

  /** Timers still waiting to fire. */
  pending(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms` without firing anything: a process that was frozen (SIGSTOP, a paused
   * VM) wakes with every timer overdue, and code may run before the first of them fires.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves time forward by `ms`, firing every timer that comes due, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#nextDue(end);
      if (next === undefined) break;
      const timer = this.#timers.get(next);
      this.#timers.delete(next);
      if (timer === undefined) break;
      this.#now = Math.max(this.#now, timer.at);
      timer.fn();
    }
    this.#now = end;
  }

  /**
   * Moves time forward by `ms` for code that awaits between timers: settles pending work, then fires
   * every timer due at the earliest instant together, settles again, and so on up to the end.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      const next = this.#nextDue(end);
      if (next === undefined) break;
      const at = this.#timers.get(next)?.at ?? end;
      this.#now = Math.max(this.#now, at);
      const due = [...this.#timers].filter(([, t]) => t.at === at);
      for (const [id] of due) this.#timers.delete(id);
      for (const [, t] of due) t.fn();
    }
    this.#now = end;
    await settle();
  }

  /** The id of the earliest timer due by `end` (the first set among equals), if any. */
  #nextDue(end: number): number | undefined {
    let nextId: number | undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const [id, t] of this.#timers) {
      if (t.at <= end && t.at < nextAt) {
        nextAt = t.at;
        nextId = id;
      }
    }
    return nextId;
  }
}

// Taken at load, before a test can install fake timers: settling must not wait on a faked setImmediate.
const realSetImmediate = globalThis.setImmediate;

/** Lets resolved promises and the I/O callbacks they schedule run (three macrotask turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => realSetImmediate(resolve));
}
