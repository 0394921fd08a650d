// A sliding window of probe samples per revision (bounded by count and age) and what it says:
// success rate, latency quantiles, consecutive failures, and each check's share of the rounds.
/**
 * One probe outcome as the window keeps it. `checksRun`: how many checks of the round ran (a round
 * stops at its first failing check, so a failed round failed at check `checksRun - 1`).
 */
export interface ProbeSample {
  ok: boolean;
  latencyMs: number;
  at: number;
  error?: string;
  checksRun?: number;
}

/** One check's share of the window: rounds that reached it, and how many of those it failed. */
export interface CheckCounts {
  runs: number;
  failures: number;
}

/** What the window says about a revision right now. */
export interface WindowStats {
  /** Samples inside the window (count and age limits applied). */
  samples: number;
  successes: number;
  failures: number;
  /** successes / samples; NaN when there are no samples. */
  successRate: number;
  /** Latency quantiles (nearest rank) over the successful samples in the window; NaN when none. */
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  /** Failures in a row at the newest end, across all pods of the revision. */
  consecutiveFailures: number;
  lastError?: string;
  lastErrorAt?: number;
  /** Time (ms since epoch, by the injected clock) of the newest sample; undefined before any. */
  lastProbeAt?: number;
  /** All samples ever added, including those that left the window. */
  totalProbes: number;
}

export interface ProbeWindowOptions {
  /** Keep at most this many newest samples. Default 1000. */
  maxSamples?: number;
  /** Drop samples older than this (relative to `now` of add/stats). Default: no age limit. */
  maxAgeMs?: number;
}

/**
 * Nearest-rank quantile of an ascending array: the smallest value with at least q of the values at
 * or below it. NaN for an empty array.
 */
export function quantile(sortedAsc: ArrayLike<number>, q: number): number {
  const n = sortedAsc.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sortedAsc[rank - 1] as number;
}

/**
 * A sliding window of probe samples for one revision, bounded by count and optionally by age.
 * Adding is O(1) (a ring buffer of typed arrays); quantiles sort a copy of the latencies lazily on
 * read and cache it until the next add, so memory is fixed at `maxSamples` × 18 bytes.
 */
export class ProbeWindow {
  readonly #capacity: number;
  readonly #maxAgeMs: number;
  readonly #latency: Float64Array;
  readonly #at: Float64Array;
  readonly #ok: Uint8Array;
  readonly #checksRun: Uint8Array;
  #head = 0; // index of the oldest sample
  #size = 0;
  #successes = 0;
  #consecutiveFailures = 0;
  #lastError: string | undefined;
  #lastErrorAt: number | undefined;
  #lastProbeAt: number | undefined;
  #total = 0;
  #sorted: Float64Array | undefined;

  constructor(options: ProbeWindowOptions = {}) {
    this.#capacity = Math.max(1, Math.floor(options.maxSamples ?? 1000));
    this.#maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.#latency = new Float64Array(this.#capacity);
    this.#at = new Float64Array(this.#capacity);
    this.#ok = new Uint8Array(this.#capacity);
    this.#checksRun = new Uint8Array(this.#capacity);
  }

  #dropOldest(): void {
    if (this.#ok[this.#head] === 1) this.#successes--;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
    this.#sorted = undefined;
  }

  #expire(now: number): void {
    const cutoff = now - this.#maxAgeMs;
    while (this.#size > 0 && (this.#at[this.#head] as number) < cutoff) this.#dropOldest();
  }

  add(sample: ProbeSample): void {
    if (this.#size === this.#capacity) this.#dropOldest();
    const i = (this.#head + this.#size) % this.#capacity;
    this.#latency[i] = sample.latencyMs;
    this.#at[i] = sample.at;
    this.#ok[i] = sample.ok ? 1 : 0;
    this.#checksRun[i] = Math.min(255, Math.max(0, sample.checksRun ?? 0));
    this.#size++;
    this.#total++;
    this.#sorted = undefined;
    if (sample.ok) {
      this.#successes++;
      this.#consecutiveFailures = 0;
    } else {
      this.#consecutiveFailures++;
      this.#lastError = sample.error ?? "probe failed";
      this.#lastErrorAt = sample.at;
    }
    this.#lastProbeAt = this.#lastProbeAt === undefined ? sample.at : Math.max(this.#lastProbeAt, sample.at);
    this.#expire(sample.at);
  }

  #sortedOkLatencies(): Float64Array {
    if (this.#sorted === undefined) {
      const out = new Float64Array(this.#successes);
      let k = 0;
      for (let j = 0; j < this.#size; j++) {
        const i = (this.#head + j) % this.#capacity;
        if (this.#ok[i] === 1) out[k++] = this.#latency[i] as number;
      }
      this.#sorted = out.sort();
    }
    return this.#sorted;
  }

  /**
   * Per check of a round of `checks` checks, over the samples in the window: how many rounds ran
   * it and how many failed at it. Samples added without `checksRun` count for no check.
   */
  checkCounts(checks: number, now?: number): CheckCounts[] {
    if (now !== undefined) this.#expire(now);
    const out: CheckCounts[] = Array.from({ length: checks }, () => ({ runs: 0, failures: 0 }));
    for (let j = 0; j < this.#size; j++) {
      const i = (this.#head + j) % this.#capacity;
      const ran = Math.min(checks, this.#checksRun[i] as number);
      for (let c = 0; c < ran; c++) (out[c] as CheckCounts).runs++;
      if (this.#ok[i] === 0 && ran > 0) (out[ran - 1] as CheckCounts).failures++;
    }
    return out;
  }

  /** The window's numbers at `now` (samples older than the age limit are dropped first). */
  stats(now?: number): WindowStats {
    if (now !== undefined) this.#expire(now);
    const sorted = this.#sortedOkLatencies();
    const stats: WindowStats = {
      samples: this.#size,
      successes: this.#successes,
      failures: this.#size - this.#successes,
      successRate: this.#size === 0 ? Number.NaN : this.#successes / this.#size,
      p50LatencyMs: quantile(sorted, 0.5),
      p95LatencyMs: quantile(sorted, 0.95),
      p99LatencyMs: quantile(sorted, 0.99),
      consecutiveFailures: this.#consecutiveFailures,
      totalProbes: this.#total,
    };
    if (this.#lastError !== undefined) stats.lastError = this.#lastError;
    if (this.#lastErrorAt !== undefined) stats.lastErrorAt = this.#lastErrorAt;
    if (this.#lastProbeAt !== undefined) stats.lastProbeAt = this.#lastProbeAt;
    return stats;
  }
}
