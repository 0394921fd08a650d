// Rate limiters for requeues, after client-go's workqueue/default_rate_limiters.go.
import type { Clock } from "../lib/clock.ts";
import { TokenBucket, type TokenBucketOptions } from "../lib/token-bucket.ts";

/** Decides how long an item waits before it is retried. */
export interface RateLimiter {
  /** Delay in ms before `key` is retried; each call counts as one more failure. */
  when(key: string): number;
  /** The item succeeded (or was given up on): reset its failure history. */
  forget(key: string): void;
  /** How many times `key` was rate-limited since its last forget. */
  numRequeues(key: string): number;
}

/** The same limit for every item: the overall requeue rate of a controller. */
export class BucketRateLimiter implements RateLimiter {
  #bucket: TokenBucket;

  constructor(options: TokenBucketOptions) {
    this.#bucket = new TokenBucket(options);
  }

  when(_key: string): number {
    return this.#bucket.reserve();
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

export interface ExponentialBackoffOptions {
  baseMs: number;
  capMs: number;
}

/** base * 2^failures per item, capped: a broken object backs off without slowing the others. */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly baseMs: number;
  readonly capMs: number;
  #failures = new Map<string, number>();

  constructor({ baseMs, capMs }: ExponentialBackoffOptions) {
    if (!(baseMs > 0) || !(capMs >= baseMs)) {
      throw new RangeError(`exponential backoff: need 0 < baseMs <= capMs, got base ${baseMs}, cap ${capMs}`);
    }
    this.baseMs = baseMs;
    this.capMs = capMs;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after it passed the cap; min() handles that.
    return Math.min(this.capMs, this.baseMs * 2 ** failures);
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Waits as long as the strictest of its limiters says. Every limiter is asked, so each counts. */
export class MaxOfRateLimiter implements RateLimiter {
  #limiters: readonly RateLimiter[];

  constructor(limiters: readonly RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError("MaxOfRateLimiter needs at least one limiter");
    this.#limiters = limiters;
  }

  when(key: string): number {
    let delay = 0;
    for (const limiter of this.#limiters) delay = Math.max(delay, limiter.when(key));
    return delay;
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    let n = 0;
    for (const limiter of this.#limiters) n = Math.max(n, limiter.numRequeues(key));
    return n;
  }
}

export interface ControllerRateLimiterOptions {
  clock: Clock;
  /** Per-item backoff; default 5 ms doubling up to 1000 s (client-go's default). */
  backoff?: ExponentialBackoffOptions;
  /** Overall requeue budget; default 10 qps, burst 100 (client-go's default). */
  bucket?: { qps: number; burst: number };
}

/** client-go's DefaultControllerRateLimiter: max(per-item exponential, overall token bucket). */
export function createControllerRateLimiter({
  clock,
  backoff = { baseMs: 5, capMs: 1_000_000 },
  bucket = { qps: 10, burst: 100 },
}: ControllerRateLimiterOptions): RateLimiter {
  return new MaxOfRateLimiter([
    new ItemExponentialFailureRateLimiter(backoff),
    new BucketRateLimiter({ ...bucket, clock }),
  ]);
}
