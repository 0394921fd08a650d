// The sliding window of one revision's completed streams (spec.health.stream), beside its probe
// window and bounded the same way (count and age): what TTFT, TPOT and tokens/s look like now.
import type { StreamSample } from "./stream.ts";
import { type ProbeWindowOptions, quantile } from "./window.ts";

/** What a revision's streams say; quantiles are nearest rank, NaN when there is nothing to rank. */
export interface StreamStats {
  /** Completed streams in the window (failed ones count in the probe window, not here). */
  samples: number;
  p50TtftMs: number;
  p99TtftMs: number;
  /** Over streams of at least 2 tokens (one token has no gap). */
  p50TpotMs: number;
  p99TpotMs: number;
  /** Median output tokens/s per stream (tokens ÷ request start → last token). */
  tokensPerSecond: number;
}

/** One completed stream as the window keeps it. */
export interface TimedStreamSample extends StreamSample {
  at: number;
}

/**
 * A ring buffer of stream samples (4 numbers each), bounded by count and optionally age; quantiles
 * sort copies on read. Memory is fixed at `maxSamples` × 32 bytes.
 */
export class StreamWindow {
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #ttft: Float64Array;
  readonly #tpot: Float64Array;
  readonly #tps: Float64Array;
  readonly #at: Float64Array;
  #head = 0;
  #size = 0;

  constructor(options: ProbeWindowOptions = {}) {
    this.#capacity = Math.max(1, Math.floor(options.maxSamples ?? 1000));
    this.#maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.#ttft = new Float64Array(this.#capacity);
    this.#tpot = new Float64Array(this.#capacity);
    this.#tps = new Float64Array(this.#capacity);
    this.#at = new Float64Array(this.#capacity);
  }

  #expire(now: number): void {
    const cutoff = now - this.#maxAgeMs;
    while (this.#size > 0 && (this.#at[this.#head] as number) < cutoff) {
      this.#head = (this.#head + 1) % this.#capacity;
      this.#size--;
    }
  }

  add(sample: TimedStreamSample): void {
    if (this.#size === this.#capacity) {
      this.#head = (this.#head + 1) % this.#capacity;
      this.#size--;
    }
    const i = (this.#head + this.#size) % this.#capacity;
    this.#ttft[i] = sample.ttftMs;
    this.#tpot[i] = sample.tpotMs;
    this.#tps[i] = sample.tokensPerSecond;
    this.#at[i] = sample.at;
    this.#size++;
    this.#expire(sample.at);
  }

  #sorted(of: Float64Array): Float64Array {
    const out: number[] = [];
    for (let j = 0; j < this.#size; j++) {
      const v = of[(this.#head + j) % this.#capacity] as number;
      if (Number.isFinite(v)) out.push(v);
    }
    return Float64Array.from(out).sort();
  }

  stats(now?: number): StreamStats {
    if (now !== undefined) this.#expire(now);
    const ttft = this.#sorted(this.#ttft);
    const tpot = this.#sorted(this.#tpot);
    return {
      samples: this.#size,
      p50TtftMs: quantile(ttft, 0.5),
      p99TtftMs: quantile(ttft, 0.99),
      p50TpotMs: quantile(tpot, 0.5),
      p99TpotMs: quantile(tpot, 0.99),
      tokensPerSecond: quantile(this.#sorted(this.#tps), 0.5),
    };
  }
}
