// A de-duplicating, per-key serialised work queue after client-go's util/workqueue, with two
// priority lanes after controller-runtime's priority queue. Items are keys, never objects: the
// reconciler always reads fresh state, so many events for one key collapse into one reconcile.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { createControllerRateLimiter, type RateLimiter } from "./rate-limiter.ts";

/** Lanes: `low` is for events that carry no news (resync, initial list of unchanged objects). */
export const Priority = { Normal: "normal", Low: "low" } as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** "namespace/name", or "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Inverse of objectKey. */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: undefined, name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export interface WorkQueueOptions {
  clock: Clock;
  /** Used by addRateLimited; default client-go's controller limiter (5 ms..1000 s, 10 qps/100). */
  rateLimiter?: RateLimiter;
}

/** FIFO with O(1) amortised shift; entries may be stale and are skipped by the queue. */
export class Fifo {
  #items: string[] = [];
  #head = 0;

  push(key: string): void {
    this.#items.push(key);
  }

  shift(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head];
    this.#head += 1;
    if (this.#head === this.#items.length) {
      // Drained: let go of the keys already handed out (after churn they name deleted objects).
      this.clear();
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return key;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Keys the backing array still references, handed-out ones included (they await compaction). */
  get held(): number {
    return this.#items.length;
  }
}

interface Delayed {
  dueAt: number;
  priority: Priority;
  timer: TimerHandle;
}

type Waiter = (key: string | undefined) => void;

/** The longest delay a Node timer holds (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class WorkQueue {
  #clock: Clock;
  #limiter: RateLimiter;
  #lanes: Record<Priority, Fifo> = { normal: new Fifo(), low: new Fifo() };
  /** Keys that need work, with their priority. A key may be dirty and processing at once. */
  #dirty = new Map<string, Priority>();
  /** Keys handed out by get() and not yet done(). */
  #processing = new Set<string>();
  /** Keys sitting in a lane, and which lane holds the live entry (others are stale). */
  #queued = new Map<string, Priority>();
  #delayed = new Map<string, Delayed>();
  #waiters: Waiter[] = [];
  #shuttingDown = false;

  constructor({ clock, rateLimiter }: WorkQueueOptions) {
    this.#clock = clock;
    this.#limiter = rateLimiter ?? createControllerRateLimiter({ clock });
  }

  /** Marks `key` as needing work. A no-op if it is already queued at the same or a higher priority. */
  add(key: string, priority: Priority = Priority.Normal): void {
    if (this.#shuttingDown) return;
    const dirty = this.#dirty.get(key);
    if (dirty !== undefined) {
      // Already waiting: only a promotion from low to normal changes anything.
      if (dirty === Priority.Low && priority === Priority.Normal) {
        this.#dirty.set(key, priority);
        if (this.#queued.has(key)) this.#enqueue(key, priority);
      }
      return;
    }
    this.#dirty.set(key, priority);
    // Re-added while a worker holds it: done() queues it again, so no two workers ever share a key.
    if (this.#processing.has(key)) return;
    this.#enqueue(key, priority);
  }

  /** Adds `key` after `ms`. If it is already waiting, the earlier due time wins. */
  addAfter(key: string, requestedMs: number, priority: Priority = Priority.Normal): void {
    if (this.#shuttingDown) return;
    // Node fires a timer above 2^31-1 ms at once (TimeoutOverflowWarning): never hand it one.
    const ms = Math.min(requestedMs, MAX_TIMER_MS);
    if (!(ms > 0)) {
      this.add(key, priority);
      return;
    }
    const dueAt = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing !== undefined) {
      if (existing.dueAt <= dueAt) {
        if (priority === Priority.Normal) existing.priority = priority;
        return;
      }
      this.#clock.clearTimeout(existing.timer);
    }
    const timer = this.#clock.setTimeout(() => {
      const entry = this.#delayed.get(key);
      if (entry?.timer !== timer) return;
      this.#delayed.delete(key);
      this.add(key, entry.priority);
    }, ms);
    const merged = existing?.priority === Priority.Normal ? Priority.Normal : priority;
    this.#delayed.set(key, { dueAt, priority: merged, timer });
  }

  /** Adds `key` after the rate limiter's delay: per-key exponential backoff and an overall budget. */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears `key`'s failure history; call after a success or when giving up on it. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The object behind `key` is gone: drop its delayed add (and the timer holding it) and its
   * failure history. A pending add stays: it may be for an object recreated under the same name.
   */
  release(key: string): void {
    this.#limiter.forget(key);
    const delayed = this.#delayed.get(key);
    if (delayed === undefined) return;
    this.#clock.clearTimeout(delayed.timer);
    this.#delayed.delete(key);
  }

  /**
   * The next key to work on; normal lane first. Waits while the queue is empty. Resolves undefined
   * once the queue is shut down. The caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The worker finished `key`. If it was added meanwhile, it goes back in the queue now. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    const dirty = this.#dirty.get(key);
    if (dirty !== undefined && !this.#shuttingDown) this.#enqueue(key, dirty);
  }

  /** Keys waiting to be handed out (not counting delayed or in-process keys). */
  len(): number {
    return this.#queued.size;
  }

  /** Keys waiting for a delayed or rate-limited add. */
  delayedLen(): number {
    return this.#delayed.size;
  }

  /** Keys handed out and not yet done. */
  processingLen(): number {
    return this.#processing.size;
  }

  /** Entries the lanes still hold, stale ones included (a leak check: 0 once drained). */
  heldLaneEntries(): number {
    return this.#lanes.normal.held + this.#lanes.low.held;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops the queue: adds are ignored, delayed adds are dropped, and get() resolves undefined for
   * everyone waiting. Keys being processed may still be passed to done().
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const entry of this.#delayed.values()) this.#clock.clearTimeout(entry.timer);
    this.#delayed.clear();
    this.#lanes.normal.clear();
    this.#lanes.low.clear();
    this.#queued.clear();
    this.#dirty.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake(undefined);
  }

  #enqueue(key: string, priority: Priority): void {
    this.#queued.set(key, priority);
    this.#lanes[priority].push(key);
    // Someone waits only while the lanes are empty, so this hands them the key just pushed.
    const wake = this.#waiters.shift();
    if (wake !== undefined) wake(this.#pop());
  }

  #pop(): string | undefined {
    for (const lane of [Priority.Normal, Priority.Low] as const) {
      for (let key = this.#lanes[lane].shift(); key !== undefined; key = this.#lanes[lane].shift()) {
        // Skip entries left behind by a promotion to the other lane.
        if (this.#queued.get(key) !== lane) continue;
        this.#queued.delete(key);
        this.#dirty.delete(key);
        this.#processing.add(key);
        return key;
      }
    }
    return undefined;
  }
}
