// Time is injected everywhere so tests drive it (vitest fake timers or a hand-made Clock) instead of
// waiting on the wall clock or patching globals.

/** Opaque handle returned by Clock.setTimeout; only ever passed back to Clock.clearTimeout. */
export type TimerHandle = { readonly __timerHandle: unique symbol };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. Built per caller (no shared singleton); it reads the globals at call time, so
 * vitest fake timers also drive code that was handed this clock.
 */
export function createSystemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms) as unknown as TimerHandle,
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
