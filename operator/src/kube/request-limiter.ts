// Client-side QPS limit for every API call the operator makes, like client-go's rest.Config QPS/Burst:
// a resync of thousands of objects or a hot error loop must not flood the API server.
import type { Clock, TimerHandle } from "../lib/clock.ts";
import { TokenBucket } from "../lib/token-bucket.ts";

export interface RequestLimiterOptions {
  clock: Clock;
  /** Sustained requests per second; default 20. */
  qps?: number;
  /** Requests allowed at once after a quiet period; default 30. */
  burst?: number;
}

export interface RequestLimiterStats {
  /** Calls to acquire() that got a token (including those that waited). */
  requests: number;
  /** Calls that had to wait for a token. */
  throttled: number;
  /** Total time callers spent waiting for tokens, ms. */
  waitedMs: number;
  /** Callers waiting now. */
  waiting: number;
}

export class RequestLimiter {
  #clock: Clock;
  #bucket: TokenBucket;
  #requests = 0;
  #throttled = 0;
  #waitedMs = 0;
  #waiting = 0;

  constructor({ clock, qps = 20, burst = 30 }: RequestLimiterOptions) {
    this.#clock = clock;
    this.#bucket = new TokenBucket({ qps, burst, clock });
  }

  /**
   * Resolves when the caller may send one request. Callers are served in arrival order. If `signal`
   * aborts while waiting, rejects with its reason and gives the token back.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const delayMs = this.#bucket.reserve();
    if (delayMs === 0) {
      this.#requests += 1;
      return Promise.resolve();
    }
    this.#waiting += 1;
    const started = this.#clock.now();
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      const onAbort = (): void => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        this.#waiting -= 1;
        this.#bucket.cancel();
        reject(signal?.reason);
      };
      timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        this.#waiting -= 1;
        this.#requests += 1;
        this.#throttled += 1;
        this.#waitedMs += this.#clock.now() - started;
        resolve();
      }, delayMs);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Runs `call` once a token is available; the usual way to wrap one API request. */
  async run<R>(call: () => Promise<R>, signal?: AbortSignal): Promise<R> {
    await this.acquire(signal);
    return call();
  }

  stats(): RequestLimiterStats {
    return {
      requests: this.#requests,
      throttled: this.#throttled,
      waitedMs: this.#waitedMs,
      waiting: this.#waiting,
    };
  }
}
