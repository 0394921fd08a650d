// Whether this process may write to the cluster at this instant. Every write the operator makes
// (children, status, events) is checked against it just before it is sent (api-client.ts), and every
// request carries its signal, so leadership loss stops all writes at once: those not yet sent are
// refused, those in flight are aborted. Lease writes are not gated: winning the lease needs them.

/** Refused: this process does not hold the lease now (it never did, or lost it, or cannot tell). */
export class NotLeaderError extends Error {
  override readonly name = "NotLeaderError";
}

export interface Leadership {
  /**
   * Throws NotLeaderError unless this process holds the lease right now, judged by the local
   * monotonic clock (a process that was frozen past its lease knows it on waking, before any I/O).
   */
  check(): void;
  /** Aborts when leadership ends; requests carry it, so none outlives the leadership it ran under. */
  readonly signal: AbortSignal;
}

/** Without leader election the one process always leads. */
export const ALWAYS_LEADING: Leadership = Object.freeze({
  check: () => {},
  signal: new AbortController().signal,
});
