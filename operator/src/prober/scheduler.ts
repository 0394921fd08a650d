// When each probe runs: a fixed-rate schedule per target with jitter, one timer for all targets, a
// global concurrency cap shared fairly among tenants, and the scheduling lag measured (hack/bench
// reads it).
import { type Clock, createSystemClock, type TimerHandle } from "../lib/clock.ts";
import { FairQueue } from "./fair-queue.ts";
import { quantile } from "./window.ts";

/** A thing to run every `intervalMs`, identified by `id` inside its group. */
export interface ScheduledTarget<T> {
  id: string;
  intervalMs: number;
  payload: T;
}

/** Passed to `run`: when the run was due and when it really started. */
export interface RunInfo {
  group: string;
  dueAt: number;
  startedAt: number;
  lagMs: number;
}

export interface ProbeSchedulerOptions<T> {
  /** The work. Must settle (the prober's runs carry their own timeouts); errors are swallowed. */
  run(target: ScheduledTarget<T>, info: RunInfo): Promise<void>;
  /**
   * Most runs in flight at once, over all targets. Each tenant may hold at most its fair share:
   * concurrency ÷ tenants with targets (at least 1), so a tenant alone may use all of it.
   */
  concurrency: number;
  /** Each interval is stretched or shrunk by up to this fraction at random. Default 0.1. */
  jitter?: number;
  clock?: Clock;
  /** Uniform in [0, 1); injected for tests. */
  random?: () => number;
  /** How many recent lag samples to keep for quantiles. Default 10,000. */
  lagSamples?: number;
}

export interface SchedulerStats {
  targets: number;
  /** Tenants with targets. */
  tenants: number;
  /** Slots each tenant may hold at once now. */
  tenantShare: number;
  inFlight: number;
  /** Due runs waiting for a concurrency slot. */
  queued: number;
  started: number;
  /** Due runs skipped because the target's previous run had not finished. */
  skippedBusy: number;
  /** Scheduling lag (start − due), over the recent runs. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Entries in the timer heap, stale ones (removed or rescheduled targets) included. */
  heapNodes: number;
}

interface Entry<T> {
  group: string;
  /** The fairness unit the group belongs to (e.g. the ModelDeployment of a revision). */
  tenant: string;
  target: ScheduledTarget<T>;
  dueAt: number;
  /** Bumped on every reschedule; heap nodes with an older seq are stale. */
  seq: number;
  running: boolean;
  queued: boolean;
  removed: boolean;
}

interface HeapNode<T> {
  at: number;
  seq: number;
  entry: Entry<T>;
}

/** A binary min-heap on `at`. */
class MinHeap<T> {
  readonly #a: HeapNode<T>[] = [];

  get size(): number {
    return this.#a.length;
  }

  peek(): HeapNode<T> | undefined {
    return this.#a[0];
  }

  push(node: HeapNode<T>): void {
    const a = this.#a;
    a.push(node);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as HeapNode<T>;
      if (parent.at <= node.at) break;
      a[i] = parent;
      i = p;
    }
    a[i] = node;
  }

  pop(): HeapNode<T> | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (top === undefined || last === undefined || a.length === 0) return top;
    a[0] = last;
    this.#siftDown(0);
    return top;
  }

  clear(): void {
    this.#a.length = 0;
  }

  /** Keeps only the nodes `keep` accepts, and restores heap order (O(n)). */
  retain(keep: (node: HeapNode<T>) => boolean): void {
    const a = this.#a;
    let n = 0;
    for (const node of a) if (keep(node)) a[n++] = node;
    a.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }

  #siftDown(i: number): void {
    const a = this.#a;
    const n = a.length;
    const node = a[i] as HeapNode<T>;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (a[r] as HeapNode<T>).at < (a[l] as HeapNode<T>).at ? r : l;
      const child = a[c] as HeapNode<T>;
      if (child.at >= node.at) break;
      a[i] = child;
      i = c;
    }
    a[i] = node;
  }
}

/**
 * Runs every target on its own interval, with jitter, under one global concurrency cap, from a
 * single timer armed at the earliest due time. The schedule is fixed-rate (the next due time
 * follows from the previous due time, not from when the run ended), and a target never runs twice
 * at once: a run that comes due while the previous one is still going is skipped and counted.
 *
 * Fairness: targets belong to groups, groups to tenants. Due runs wait in one queue per tenant,
 * served round-robin, and a tenant never holds more than its share of the slots (concurrency ÷
 * tenants with targets). Slots held by a tenant whose pods hang or crawl are its own share: the
 * others' shares stay free, so their probe rate does not depend on what that tenant's pods do
 * (as long as there are at most `concurrency` tenants; beyond that each gets one slot in turn).
 * Calls never block: `setTargets` only edits maps and the heap.
 */
export class ProbeScheduler<T> {
  readonly #run: ProbeSchedulerOptions<T>["run"];
  readonly #concurrency: number;
  readonly #jitter: number;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #groups = new Map<string, Map<string, Entry<T>>>();
  readonly #heap = new MinHeap<T>();
  readonly #ready = new FairQueue<{ entry: Entry<T>; dueAt: number }>();
  /** The tenant of each group. */
  readonly #groupTenant = new Map<string, string>();
  /** Groups with targets, per tenant: a tenant counts toward the shares while it has any. */
  readonly #tenantGroups = new Map<string, number>();
  /** Runs in flight per tenant (absent: none). */
  readonly #running = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Targets over all groups (the heap holds one live node for each, plus stale ones). */
  #targets = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #stopped = false;
  #started = 0;
  #skippedBusy = 0;
  readonly #lags: Float64Array;
  #lagCount = 0;
  #lagMax = 0;

  constructor(options: ProbeSchedulerOptions<T>) {
    this.#run = options.run;
    this.#concurrency = Math.max(1, Math.floor(options.concurrency));
    this.#jitter = Math.min(0.5, Math.max(0, options.jitter ?? 0.1));
    this.#clock = options.clock ?? createSystemClock({ unrefTimers: true });
    this.#random = options.random ?? Math.random;
    this.#lags = new Float64Array(Math.max(1, options.lagSamples ?? 10_000));
  }

  #jittered(intervalMs: number): number {
    return intervalMs * (1 + this.#jitter * (2 * this.#random() - 1));
  }

  #schedule(entry: Entry<T>, at: number): void {
    entry.dueAt = at;
    entry.seq++;
    this.#heap.push({ at, seq: entry.seq, entry });
  }

  /** Slots one tenant may hold at once: an equal split among tenants with targets, at least 1. */
  #share(): number {
    return Math.max(1, Math.floor(this.#concurrency / Math.max(1, this.#tenantGroups.size)));
  }

  #setGroupTenant(group: string, tenant: string | undefined): void {
    const old = this.#groupTenant.get(group);
    if (old === tenant) return;
    if (old !== undefined) {
      this.#groupTenant.delete(group);
      const n = (this.#tenantGroups.get(old) ?? 1) - 1;
      if (n > 0) this.#tenantGroups.set(old, n);
      else this.#tenantGroups.delete(old);
    }
    if (tenant !== undefined) {
      this.#groupTenant.set(group, tenant);
      this.#tenantGroups.set(tenant, (this.#tenantGroups.get(tenant) ?? 0) + 1);
    }
  }

  /**
   * Replaces the targets of a group (e.g. one revision) of `tenant` (e.g. its ModelDeployment; by
   * default the group is its own tenant). Targets that stay keep their schedule (an interval change
   * reschedules them); new ones start at a random phase within their first interval, so a fresh set
   * does not fire at once; removed ones are forgotten (a run in flight finishes, but its target is
   * not run again).
   */
  setTargets(group: string, targets: readonly ScheduledTarget<T>[], tenant: string = group): void {
    if (this.#stopped) return;
    const now = this.#clock.monotonic();
    const old = this.#groups.get(group) ?? new Map<string, Entry<T>>();
    const had = old.size;
    const next = new Map<string, Entry<T>>();
    for (const target of targets) {
      if (!(target.intervalMs > 0)) throw new Error(`target ${group}/${target.id}: intervalMs must be > 0`);
      const existing = old.get(target.id);
      if (existing !== undefined) {
        old.delete(target.id);
        const intervalChanged = existing.target.intervalMs !== target.intervalMs;
        existing.target = target;
        existing.tenant = tenant;
        if (intervalChanged) this.#schedule(existing, now + this.#random() * target.intervalMs);
        next.set(target.id, existing);
      } else {
        const entry: Entry<T> = {
          group,
          tenant,
          target,
          dueAt: 0,
          seq: 0,
          running: false,
          queued: false,
          removed: false,
        };
        this.#schedule(entry, now + this.#random() * target.intervalMs);
        next.set(target.id, entry);
      }
    }
    for (const gone of old.values()) gone.removed = true;
    this.#targets += next.size - had;
    if (next.size === 0) this.#groups.delete(group);
    else this.#groups.set(group, next);
    this.#setGroupTenant(group, next.size === 0 ? undefined : tenant);
    this.#compact();
    this.#arm();
  }

  /**
   * A removed target's heap node would wait until its due time (up to an interval, an hour at
   * most) holding the target; after churn that is every deleted revision's pods. Once stale nodes
   * outnumber live ones, drop them all: amortised O(1) per removal.
   */
  #compact(): void {
    if (this.#heap.size <= 2 * this.#targets + 64) return;
    this.#heap.retain((n) => !n.entry.removed && n.seq === n.entry.seq);
  }

  removeGroup(group: string): void {
    this.setTargets(group, []);
  }

  #arm(): void {
    if (this.#stopped) return;
    // Drop stale heap tops so the timer is armed for a live entry.
    for (let top = this.#heap.peek(); top !== undefined; top = this.#heap.peek()) {
      if (!top.entry.removed && top.seq === top.entry.seq) break;
      this.#heap.pop();
    }
    const top = this.#heap.peek();
    if (top === undefined) {
      if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (this.#timer !== undefined && this.#timerAt <= top.at) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = top.at;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, top.at - this.#clock.monotonic()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#stopped) return;
    const now = this.#clock.monotonic();
    for (let top = this.#heap.peek(); top !== undefined && top.at <= now; top = this.#heap.peek()) {
      this.#heap.pop();
      const entry = top.entry;
      if (entry.removed || top.seq !== entry.seq) continue;
      if (entry.running || entry.queued) this.#skippedBusy++;
      else {
        entry.queued = true;
        this.#ready.push(entry.tenant, { entry, dueAt: entry.dueAt });
      }
      // Fixed rate; if we fell more than an interval behind, skip the missed slots.
      let nextAt = entry.dueAt + this.#jittered(entry.target.intervalMs);
      if (nextAt <= now) nextAt = now + this.#jittered(entry.target.intervalMs);
      this.#schedule(entry, nextAt);
    }
    this.#drain();
    this.#arm();
  }

  #drain(): void {
    const share = this.#share();
    const mayRun = (tenant: string) => (this.#running.get(tenant) ?? 0) < share;
    while (this.#inFlight.size < this.#concurrency) {
      const next = this.#ready.take(mayRun);
      if (next === undefined) break;
      const { entry, dueAt } = next.item;
      entry.queued = false;
      if (entry.removed) continue;
      this.#start(entry, dueAt);
    }
  }

  #start(entry: Entry<T>, dueAt: number): void {
    const startedAt = this.#clock.monotonic();
    const lagMs = Math.max(0, startedAt - dueAt);
    this.#lags[this.#lagCount % this.#lags.length] = lagMs;
    this.#lagCount++;
    if (lagMs > this.#lagMax) this.#lagMax = lagMs;
    this.#started++;
    entry.running = true;
    // The tenant it was queued under pays for the slot until the run ends.
    const tenant = entry.tenant;
    this.#running.set(tenant, (this.#running.get(tenant) ?? 0) + 1);
    let p: Promise<void>;
    try {
      p = this.#run(entry.target, { group: entry.group, dueAt, startedAt, lagMs });
    } catch {
      p = Promise.resolve();
    }
    const tracked: Promise<void> = p
      .catch(() => undefined)
      .then(() => {
        entry.running = false;
        const n = (this.#running.get(tenant) ?? 1) - 1;
        if (n > 0) this.#running.set(tenant, n);
        else this.#running.delete(tenant);
        this.#inFlight.delete(tracked);
        if (!this.#stopped) this.#drain();
      });
    this.#inFlight.add(tracked);
  }

  stats(): SchedulerStats {
    const n = Math.min(this.#lagCount, this.#lags.length);
    const sorted = this.#lags.slice(0, n).sort();
    let targets = 0;
    for (const g of this.#groups.values()) targets += g.size;
    return {
      targets,
      tenants: this.#tenantGroups.size,
      tenantShare: this.#share(),
      inFlight: this.#inFlight.size,
      queued: this.#ready.size,
      started: this.#started,
      skippedBusy: this.#skippedBusy,
      lagP50Ms: quantile(sorted, 0.5),
      lagP99Ms: quantile(sorted, 0.99),
      lagMaxMs: this.#lagMax,
      heapNodes: this.#heap.size,
    };
  }

  /** Forgets the lag samples (e.g. after a warm-up phase of a benchmark). */
  resetLag(): void {
    this.#lagCount = 0;
    this.#lagMax = 0;
  }

  /** Stops scheduling and waits for the runs in flight to settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#heap.clear();
    this.#ready.clear();
    this.#groups.clear();
    this.#targets = 0;
    this.#groupTenant.clear();
    this.#tenantGroups.clear();
    await Promise.allSettled([...this.#inFlight]);
  }
}
