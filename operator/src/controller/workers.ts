// Runs reconciles off the work queue with controller-runtime's result contract: an error means
// "retry with backoff", TerminalError means "do not retry", requeueAfterMs means "look again later",
// requeue means "look again soon, with backoff" (a conflict: nothing failed, the read was stale).
import { randomUUID } from "node:crypto";
// The module's own binding, not the global: a yield to the real event loop, also under fake timers.
import { setImmediate } from "node:timers";
import type { Logger } from "pino";
import type { WorkQueue } from "./work-queue.ts";

/**
 * What a reconcile asks for next. `requeueAfterMs > 0`: reconcile again after that long. `requeue`:
 * again after the key's backoff (controller-runtime's Result{Requeue: true}), without an error.
 * `gone`: the object no longer exists; the queue lets go of everything it holds for the key.
 */
export interface ReconcileResult {
  requeueAfterMs?: number;
  requeue?: boolean;
  gone?: boolean;
}

/** The longest the workers keep the event loop before giving it a turn, ms. */
const YIELD_MS = 10;

export type ReconcileFn = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

/** Thrown by a reconcile when retrying cannot help (bad input); the key is not requeued. */
export class TerminalError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** How a reconcile ended; the label set of the reconcile counter. */
export const ReconcileOutcome = {
  Success: "success",
  Requeue: "requeue",
  Error: "error",
  Terminal: "terminal",
} as const;
export type ReconcileOutcome = (typeof ReconcileOutcome)[keyof typeof ReconcileOutcome];

export interface WorkerStats {
  /** Finished reconciles by outcome, since start. */
  reconciles: Record<ReconcileOutcome, number>;
  /** Reconciles running now. */
  inFlight: number;
  /** Keys waiting in the queue (not counting delayed ones). */
  queueDepth: number;
  /** Keys waiting for a delayed or rate-limited add. */
  queueDelayed: number;
  /** Sum of reconcile durations, ms (with the counts, gives a mean for metrics). */
  reconcileMsTotal: number;
}

export interface RunWorkersOptions {
  queue: WorkQueue;
  /** Concurrent reconciles; never two for the same key (the queue guarantees it). */
  workers: number;
  reconcile: ReconcileFn;
  log: Logger;
  /** For durations; default Date.now. */
  now?: () => number;
}

export interface WorkerPool {
  /** Shuts the queue down, aborts the reconciles' signal and waits for in-flight ones to finish. */
  stop(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): WorkerStats;
}

export function runWorkers({
  queue,
  workers,
  reconcile,
  log,
  now = Date.now,
}: RunWorkersOptions): WorkerPool {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`runWorkers: workers must be an integer >= 1, got ${workers}`);
  }
  const stopping = new AbortController();
  const reconciles: Record<ReconcileOutcome, number> = { success: 0, requeue: 0, error: 0, terminal: 0 };
  let inFlight = 0;
  let reconcileMsTotal = 0;

  const processOne = async (key: string): Promise<void> => {
    const reconcileLog = log.child({ key, reconcileId: randomUUID() });
    const started = now();
    let outcome: ReconcileOutcome;
    try {
      // Promise.resolve().then() also catches a reconcile that throws before returning a promise.
      const result = await Promise.resolve().then(() => reconcile(key, stopping.signal));
      const after = result?.requeueAfterMs;
      if (result?.gone) {
        // A requeueAfter from its last live pass would otherwise hold a timer for a deleted object.
        queue.release(key);
        outcome = ReconcileOutcome.Success;
      } else if (result?.requeue) {
        // Not forgotten: the backoff grows while the cache stays behind.
        queue.addRateLimited(key);
        outcome = ReconcileOutcome.Requeue;
      } else if (after !== undefined && after > 0) {
        queue.forget(key);
        queue.addAfter(key, after);
        outcome = ReconcileOutcome.Requeue;
      } else {
        queue.forget(key);
        outcome = ReconcileOutcome.Success;
      }
      reconcileLog.debug({ outcome, requeueAfterMs: after, ms: now() - started }, "reconciled");
    } catch (err) {
      if (err instanceof TerminalError) {
        queue.forget(key);
        outcome = ReconcileOutcome.Terminal;
        reconcileLog.error({ err, ms: now() - started }, "reconcile failed terminally; not retrying");
      } else {
        queue.addRateLimited(key);
        outcome = ReconcileOutcome.Error;
        reconcileLog.warn(
          { err, retries: queue.numRequeues(key), ms: now() - started },
          "reconcile failed; retrying with backoff",
        );
      }
    }
    reconciles[outcome] += 1;
    reconcileMsTotal += now() - started;
  };

  let lastYield = now();
  const loop = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      inFlight += 1;
      try {
        await processOne(key);
      } catch (err) {
        // processOne catches reconcile errors; this guards against a throwing logger or queue.
        log.error({ err, key }, "worker failed outside reconcile");
      } finally {
        inFlight -= 1;
        queue.done(key);
      }
      // A reconcile with nothing to write (the steady state, e.g. a resync) finishes in microtasks, and
      // so does queue.get() while keys wait: without a turn of the event loop, thousands of them in a
      // row would hold it for seconds, and /healthz, /metrics, watch events and the lease renewal with
      // it. A turn after every reconcile cost ~1 CPU-ms each in the idle bench: one per YIELD_MS.
      if (now() - lastYield >= YIELD_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = now();
      }
    }
  };

  const loops = Array.from({ length: workers }, () => loop());
  let stopped: Promise<void> | undefined;

  return {
    stop() {
      stopped ??= (async () => {
        queue.shutDown();
        stopping.abort(new Error("workers stopping"));
        await Promise.all(loops);
      })();
      return stopped;
    },
    stats() {
      return {
        reconciles: { ...reconciles },
        inFlight,
        queueDepth: queue.len(),
        queueDelayed: queue.delayedLen(),
        reconcileMsTotal,
      };
    },
  };
}
