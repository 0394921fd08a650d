// Lease-based leader election (coordination.k8s.io/v1), after client-go's tools/leaderelection.
//
// Not fencing: it trusts only the local monotonic clock. A follower takes the lease when the record
// it last saw has not changed for leaseDurationSeconds of *its own* time; the leader steps down when
// it could not renew for renewDeadline of its own time. With renewDeadline < leaseDuration the old
// leader stops before anyone else may start. The elector is also the process's Leadership: a
// write is let through only while the last renew began less than renewDeadline ago by the monotonic
// clock, so a process frozen (SIGSTOP, a VM pause) past its lease refuses writes the instant it
// wakes, before its renew loop has even run (client-go leaves that to each caller's context).

import type { Logger } from "pino";
import { type Clock, createSystemClock, sleep } from "../lib/clock.ts";
import { type Leadership, NotLeaderError } from "./leadership.ts";

/** What a Lease holds, in our own terms (no client-node types cross this boundary). */
export type LeaseSpec = {
  holderIdentity: string | undefined;
  leaseDurationSeconds: number;
  acquireTime: Date | undefined;
  renewTime: Date | undefined;
  leaseTransitions: number;
};

/** A Lease as read back, with the resourceVersion that makes the next write conditional. */
export type LeaseRecord = LeaseSpec & { resourceVersion: string };

/** Raised by a LeaseStore when a create finds the Lease already there or a replace loses on resourceVersion. */
export class LeaseConflictError extends Error {
  override readonly name = "LeaseConflictError";
}

/** The three API calls election needs; the real one wraps CoordinationV1Api (lease-store.ts). */
export interface LeaseStore {
  get(namespace: string, name: string): Promise<LeaseRecord | undefined>;
  create(namespace: string, name: string, spec: LeaseSpec): Promise<LeaseRecord>;
  replace(namespace: string, name: string, spec: LeaseSpec, resourceVersion: string): Promise<LeaseRecord>;
}

/**
 * Why leading ended: the lease could not be renewed in time, someone else holds it, release() was
 * called, or the leading work (onStartedLeading) failed and the lease was handed back.
 */
export type StepDownReason = "renew-deadline-exceeded" | "lease-taken" | "released" | "leading-failed";

export type LeaderCallbacks = {
  /**
   * Called once when this process becomes leader; signal aborts when leadership ends. A returned
   * promise that rejects gives leadership up (reason "leading-failed").
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once after leading ends; on anything but "released" the caller should exit. */
  onStoppedLeading(reason: StepDownReason): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
};

export type LeaderElectorOptions = {
  store: LeaseStore;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  /** Decisions use clock.monotonic(); clock.now() only stamps the Lease. Default: the system clock. */
  clock?: Clock;
  /** [0, 1) source for retry jitter; tests pass a constant. */
  random?: () => number;
};

export type LeaderStatus = {
  /** This process holds the lease right now. */
  leading: boolean;
  /** Last holder seen on the Lease, if any. */
  leader: string | undefined;
  /** Leading and renewing, or standing by and able to read the Lease recently. */
  healthy: boolean;
};

// client-go's JitterFactor: the renew deadline must leave room for at least one jittered retry.
const JITTER_FACTOR = 1.2;

export class LeaderElector implements Leadership {
  readonly #store: LeaseStore;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #log: Logger;
  readonly #clock: Clock;

  readonly #random: () => number;

  #callbacks: LeaderCallbacks | undefined;
  #stop = new AbortController();
  #running: Promise<void> | undefined;
  #leading = false;
  /** Aborted when leading ends (or check() finds the lease stale); requests carry its signal. */
  readonly #leadership = new AbortController();
  /** Monotonic time when the last successful acquire or renew began: the lease is ours from then. */
  #renewedAtMs = 0;
  #leader: string | undefined;
  /** The record last read or written, and when (monotonic) it last changed. */
  #observed: LeaseRecord | undefined;
  #observedAtMs = 0;
  #lastContactMs: number | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#store = options.store;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#log = options.log.child({
      lease: `${options.namespace}/${options.name}`,
      identity: options.identity,
    });
    this.#clock = options.clock ?? createSystemClock();
    this.#random = options.random ?? Math.random;
    if (!options.identity) throw new Error("leader election: identity must not be empty");
    if (this.#leaseDurationMs <= this.#renewDeadlineMs) {
      throw new Error(
        `leader election: leaseDurationMs (${this.#leaseDurationMs}) must exceed renewDeadlineMs (${this.#renewDeadlineMs})`,
      );
    }
    if (this.#renewDeadlineMs <= JITTER_FACTOR * this.#retryPeriodMs) {
      throw new Error(
        `leader election: renewDeadlineMs (${this.#renewDeadlineMs}) must exceed ${JITTER_FACTOR} × retryPeriodMs (${this.#retryPeriodMs})`,
      );
    }
  }

  get signal(): AbortSignal {
    return this.#leadership.signal;
  }

  check(): void {
    if (!this.#leading || this.#leadership.signal.aborted) {
      throw new NotLeaderError(`not the leader (lease ${this.#namespace}/${this.#name})`);
    }
    const sinceRenewMs = this.#clock.monotonic() - this.#renewedAtMs;
    if (sinceRenewMs >= this.#renewDeadlineMs) {
      // Frozen or starved past the renew deadline: another process may be leading by now. Stop
      // every request of this leadership, not only this one; the renew loop steps down next.
      const err = new NotLeaderError(
        `lease ${this.#namespace}/${this.#name} last renewed ${Math.round(sinceRenewMs)} ms ago (renew deadline ${this.#renewDeadlineMs} ms)`,
      );
      this.#leadership.abort(err);
      throw err;
    }
  }

  status(): LeaderStatus {
    const now = this.#clock.monotonic();
    const contactFresh =
      this.#lastContactMs !== undefined && now - this.#lastContactMs <= this.#leaseDurationMs;
    const stopped = this.#stop.signal.aborted;
    return {
      leading: this.#leading && !this.#leadership.signal.aborted,
      leader: this.#leader,
      healthy: !stopped && (this.#leading || contactFresh),
    };
  }

  /**
   * Campaign until leading, then renew until leadership is lost or release() is called.
   * Resolves when the elector has stopped; it does not start again.
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.#running) throw new Error("leader election: run() called twice");
    this.#running = this.#loop(callbacks);
    return this.#running;
  }

  /**
   * Stop campaigning; if leading, hand the lease over at once (empty holder, 1 s duration) so a
   * standby need not wait out the lease. Call on graceful shutdown.
   */
  async release(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(callbacks: LeaderCallbacks): Promise<void> {
    this.#callbacks = callbacks;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      // When the winning attempt began: the lease was last renewed no earlier than this.
      const startedMs = this.#clock.monotonic();
      if ((await this.#bounded(this.#attempt(undefined), this.#renewDeadlineMs)) === true) {
        this.#renewedAtMs = startedMs;
        this.#leading = true;
        break;
      }
      await this.#sleep(this.#jittered(this.#retryPeriodMs), stop);
    }
    if (!this.#leading) return;
    if (stop.aborted) {
      // release() raced the winning write: hand the lease straight back.
      this.#leading = false;
      await this.#releaseLease();
      return;
    }

    this.#log.info("became leader");
    const leadership = this.#leadership;
    // Not awaited: leading work runs until leadership.signal aborts. If it fails, a leader that does
    // no work would block the standbys, so give the lease up.
    let leadingFailed = false;
    Promise.resolve()
      .then(() => callbacks.onStartedLeading(leadership.signal))
      .catch((err: unknown) => {
        this.#log.error({ err }, "leading work failed; giving up leadership");
        leadingFailed = true;
        this.#stop.abort();
      });

    const renewed = await this.#renew();
    const reason: StepDownReason = leadingFailed ? "leading-failed" : renewed;
    this.#leading = false;
    leadership.abort(new NotLeaderError(`leadership ended: ${reason}`));
    if (reason === "released" || reason === "leading-failed") await this.#releaseLease();
    this.#stop.abort();
    if (reason === "released") this.#log.info("released leadership");
    else this.#log.warn({ reason }, "lost leadership");
    callbacks.onStoppedLeading(reason);
  }

  /** Renew every retry period; returns why leading ended. */
  async #renew(): Promise<"released" | "lease-taken" | "renew-deadline-exceeded"> {
    const stop = this.#stop.signal;
    // check() may find the lease stale first: then step down without waiting.
    const wake = AbortSignal.any([stop, this.#leadership.signal]);
    for (;;) {
      await this.#sleep(this.#retryPeriodMs, wake);
      if (this.#leadership.signal.aborted) return "renew-deadline-exceeded";
      if (stop.aborted) return "released";
      // The attempt starts now; count from here so the deadline is conservative.
      const startedMs = this.#clock.monotonic();
      const remaining = this.#renewDeadlineMs - (startedMs - this.#renewedAtMs);
      const outcome = await this.#attemptWithin(remaining);
      // A renew that lands after check() gave up does not bring leadership back: its requests are aborted.
      if (this.#leadership.signal.aborted) return "renew-deadline-exceeded";
      if (outcome === "renewed") {
        this.#renewedAtMs = startedMs;
        continue;
      }
      if (outcome === "taken") return "lease-taken";
      if (this.#clock.monotonic() - this.#renewedAtMs >= this.#renewDeadlineMs)
        return "renew-deadline-exceeded";
    }
  }

  /** One renew attempt, abandoned (its late result ignored) when the renew deadline passes first. */
  async #attemptWithin(remainingMs: number): Promise<"renewed" | "failed" | "taken"> {
    if (remainingMs <= 0) return "failed";
    const ok = await this.#bounded(this.#attempt(this.#identity), remainingMs);
    if (ok === true) return "renewed";
    return this.#leader !== undefined && this.#leader !== this.#identity ? "taken" : "failed";
  }

  /** The value of `work`, or "timeout" if it takes longer than ms (a hung API call must not hold us). */
  async #bounded<T>(work: Promise<T>, ms: number): Promise<T | "timeout"> {
    const timeout = new AbortController();
    const timer = this.#sleep(ms, timeout.signal).then(() => "timeout" as const);
    try {
      return await Promise.race([work, timer]);
    } finally {
      timeout.abort();
    }
  }

  /**
   * client-go's tryAcquireOrRenew. Returns true when we hold the lease after this call.
   * `expectHolder` is our identity when renewing, so a renew never silently re-acquires.
   */
  async #attempt(expectHolder: string | undefined): Promise<boolean> {
    const now = new Date(this.#clock.now());
    let current: LeaseRecord | undefined;
    try {
      current = await this.#store.get(this.#namespace, this.#name);
      this.#lastContactMs = this.#clock.monotonic();
    } catch (err) {
      this.#log.warn({ err }, "reading lease failed");
      return false;
    }

    if (current === undefined) {
      const spec: LeaseSpec = {
        holderIdentity: this.#identity,
        leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      };
      return this.#write(() => this.#store.create(this.#namespace, this.#name, spec));
    }

    this.#observe(current);
    const holder = current.holderIdentity || undefined;
    const heldByOther = holder !== undefined && holder !== this.#identity;
    if (expectHolder !== undefined && holder !== expectHolder) return false;
    if (heldByOther && this.#stillValid(current)) return false;

    const spec: LeaseSpec = {
      holderIdentity: this.#identity,
      leaseDurationSeconds: Math.ceil(this.#leaseDurationMs / 1000),
      acquireTime: holder === this.#identity ? (current.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: holder === this.#identity ? current.leaseTransitions : current.leaseTransitions + 1,
    };
    const rv = current.resourceVersion;
    return this.#write(() => this.#store.replace(this.#namespace, this.#name, spec, rv));
  }

  async #write(call: () => Promise<LeaseRecord>): Promise<boolean> {
    try {
      const written = await call();
      this.#lastContactMs = this.#clock.monotonic();
      this.#observe(written);
      return true;
    } catch (err) {
      if (err instanceof LeaseConflictError) this.#log.debug("lost a lease write race");
      else this.#log.warn({ err }, "writing lease failed");
      return false;
    }
  }

  #observe(record: LeaseRecord): void {
    const prev = this.#observed;
    const changed =
      prev === undefined ||
      prev.resourceVersion !== record.resourceVersion ||
      prev.holderIdentity !== record.holderIdentity ||
      prev.renewTime?.getTime() !== record.renewTime?.getTime();
    if (changed) this.#observedAtMs = this.#clock.monotonic();
    this.#observed = record;
    const holder = record.holderIdentity || undefined;
    if (holder !== this.#leader) {
      this.#leader = holder;
      if (holder !== undefined) {
        this.#log.info({ leader: holder }, "new leader observed");
        this.#callbacks?.onNewLeader?.(holder);
      }
    }
  }

  /** The holder's record changed within its own lease duration, by our clock. */
  #stillValid(record: LeaseRecord): boolean {
    return this.#observedAtMs + record.leaseDurationSeconds * 1000 > this.#clock.monotonic();
  }

  async #releaseLease(): Promise<void> {
    try {
      const current = await this.#store.get(this.#namespace, this.#name);
      if (current === undefined || current.holderIdentity !== this.#identity) return;
      const now = new Date(this.#clock.now());
      await this.#store.replace(
        this.#namespace,
        this.#name,
        {
          holderIdentity: undefined,
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: current.leaseTransitions,
        },
        current.resourceVersion,
      );
    } catch (err) {
      // The standby then waits out the lease instead: slower, still safe.
      this.#log.warn({ err }, "releasing lease failed");
    }
  }

  /** Resolves after ms, or early (without throwing) when signal aborts. */
  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return sleep(this.#clock, ms, signal).catch(() => undefined);
  }

  #jittered(ms: number): number {
    return ms * (1 + this.#random() * (JITTER_FACTOR - 1));
  }
}
