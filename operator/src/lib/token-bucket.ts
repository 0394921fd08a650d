// A token bucket: the one rate-limit primitive, shared by the API client's request limiter (kube/)
// and the work queue's overall requeue rate (controller/).
import type { Clock } from "./clock.ts";

export interface TokenBucketOptions {
  /** Tokens added per second. */
  qps: number;
  /** Bucket size: how many tokens can be taken at once after a quiet period. */
  burst: number;
  clock: Clock;
}

/**
 * A token bucket with reservations (like golang.org/x/time/rate's Reserve): taking a token never
 * fails, it tells the caller how long to wait. Tokens may go negative, so reservations queue in
 * FIFO order without any timers here.
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  #clock: Clock;
  #tokens: number;
  #last: number;

  constructor({ qps, burst, clock }: TokenBucketOptions) {
    if (!(qps > 0) || !Number.isFinite(qps)) {
      throw new RangeError(`token bucket: qps must be a positive number, got ${qps}`);
    }
    if (!(burst >= 1) || !Number.isInteger(burst)) {
      throw new RangeError(`token bucket: burst must be an integer >= 1, got ${burst}`);
    }
    this.qps = qps;
    this.burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Takes one token; returns the ms to wait before using it (0 when one was available). */
  reserve(): number {
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens * 1000) / this.qps);
  }

  /** Gives back a token whose reservation was abandoned before use. */
  cancel(): void {
    this.#refill();
    this.#tokens = Math.min(this.burst, this.#tokens + 1);
  }

  /** Tokens available now (negative when reservations are queued). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.qps) / 1000);
  }
}
