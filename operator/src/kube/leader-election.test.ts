import pino from "pino";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/clock.ts";
import {
  type LeaderCallbacks,
  LeaderElector,
  LeaseConflictError,
  type LeaseRecord,
  type LeaseSpec,
  type LeaseStore,
  type StepDownReason,
} from "./leader-election.ts";
import { NotLeaderError } from "./leadership.ts";

const log = pino({ level: "silent" });
const NS = "modelship-system";
const NAME = "modelship-leader";

// Election reads the clock's monotonic time; the Lease gets its wall time. Both start at T0 on a
// ManualClock, and the tests speak in ms since T0.
const T0 = Date.UTC(2026, 10, 1);
const newClock = () => new ManualClock(T0);
const since = (clock: ManualClock) => clock.monotonic() - T0;

/** One API server's worth of Leases, with resourceVersion checks like the real one. */
class FakeLeaseStore implements LeaseStore {
  readonly leases = new Map<string, LeaseRecord>();
  #rv = 0;
  /** Runs before a replace is applied; lets a test slip in a concurrent writer. */
  beforeReplace: (() => void) | undefined;

  async get(namespace: string, name: string): Promise<LeaseRecord | undefined> {
    const lease = this.leases.get(`${namespace}/${name}`);
    return lease && { ...lease };
  }
  async create(namespace: string, name: string, spec: LeaseSpec): Promise<LeaseRecord> {
    const key = `${namespace}/${name}`;
    if (this.leases.has(key)) throw new LeaseConflictError("exists");
    return this.put(key, spec);
  }
  async replace(
    namespace: string,
    name: string,
    spec: LeaseSpec,
    resourceVersion: string,
  ): Promise<LeaseRecord> {
    this.beforeReplace?.();
    const key = `${namespace}/${name}`;
    if (this.leases.get(key)?.resourceVersion !== resourceVersion) throw new LeaseConflictError("conflict");
    return this.put(key, spec);
  }
  put(key: string, spec: LeaseSpec): LeaseRecord {
    const record = { ...spec, resourceVersion: String(++this.#rv) };
    this.leases.set(key, record);
    return { ...record };
  }
  holder(): string | undefined {
    return this.leases.get(`${NS}/${NAME}`)?.holderIdentity;
  }
}

/** One elector's view of the store: can be cut off (calls fail) or hung (calls never return). */
class LinkToStore implements LeaseStore {
  mode: "up" | "down" | "hung" = "up";
  readonly #inner: LeaseStore;
  constructor(inner: LeaseStore) {
    this.#inner = inner;
  }
  #gate<T>(call: () => Promise<T>): Promise<T> {
    if (this.mode === "down") return Promise.reject(new Error("connection refused"));
    if (this.mode === "hung") return new Promise<T>(() => {});
    return call();
  }
  get(ns: string, n: string) {
    return this.#gate(() => this.#inner.get(ns, n));
  }
  create(ns: string, n: string, s: LeaseSpec) {
    return this.#gate(() => this.#inner.create(ns, n, s));
  }
  replace(ns: string, n: string, s: LeaseSpec, rv: string) {
    return this.#gate(() => this.#inner.replace(ns, n, s, rv));
  }
}

type Candidate = {
  elector: LeaderElector;
  link: LinkToStore;
  startedAt: number | undefined;
  stopped: { at: number; reason: StepDownReason } | undefined;
  leading: boolean;
  done: Promise<void>;
};

function candidate(identity: string, store: LeaseStore, clock: ManualClock, failLeading = false): Candidate {
  const link = new LinkToStore(store);
  const elector = new LeaderElector({
    store: link,
    namespace: NS,
    name: NAME,
    identity,
    log,
    clock,
    random: () => 0,
  });
  const c: Candidate = {
    elector,
    link,
    startedAt: undefined,
    stopped: undefined,
    leading: false,
    done: Promise.resolve(),
  };
  const callbacks: LeaderCallbacks = {
    async onStartedLeading(signal) {
      c.startedAt = since(clock);
      c.leading = true;
      signal.addEventListener("abort", () => {
        c.leading = false;
      });
      if (failLeading) throw new Error("informers could not start");
    },
    onStoppedLeading(reason) {
      c.stopped = { at: since(clock), reason };
    },
  };
  c.done = elector.run(callbacks);
  return c;
}

describe("LeaderElector", () => {
  it("lets exactly one of two candidates lead and keeps it leading while it renews", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    const b = candidate("pod-b", store, clock);

    await clock.advanceAsync(60_000);

    expect([a.leading, b.leading].filter(Boolean)).toHaveLength(1);
    const leader = a.leading ? a : b;
    const standby = a.leading ? b : a;
    expect(store.holder()).toBe(leader === a ? "pod-a" : "pod-b");
    expect(leader.elector.status()).toMatchObject({ leading: true, healthy: true });
    expect(standby.elector.status()).toEqual({ leading: false, leader: store.holder(), healthy: true });
    expect(standby.startedAt).toBeUndefined();
    expect(leader.stopped).toBeUndefined();
  });

  it("steps down when it cannot renew within the renew deadline, and a standby takes over after the lease duration", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    await clock.advanceAsync(10_000);
    expect(a.leading).toBe(true);

    const lastRenewTime = store.leases.get(`${NS}/${NAME}`)?.renewTime?.getTime() ?? 0;
    const lastRenewAt = lastRenewTime - T0;
    a.link.mode = "down";
    await clock.advanceAsync(30_000);

    expect(a.stopped?.reason).toBe("renew-deadline-exceeded");
    expect(a.stopped?.at).toBeLessThanOrEqual(lastRenewAt + 10_000 + 2_000);
    expect(a.elector.status()).toMatchObject({ leading: false, healthy: false });
    expect(b.leading).toBe(true);
    expect(store.holder()).toBe("pod-b");
    // Never two leaders: the old one is gone before the new one starts, and no sooner than the lease allows.
    expect(b.startedAt).toBeGreaterThanOrEqual(lastRenewAt + 15_000);
    expect(b.startedAt).toBeLessThanOrEqual(lastRenewAt + 15_000 + 2_000);
    expect(b.startedAt).toBeGreaterThan(a.stopped?.at ?? Number.POSITIVE_INFINITY);
    await a.done;
  });

  it("steps down when a renew call hangs past the renew deadline", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(5_000);
    expect(a.leading).toBe(true);

    a.link.mode = "hung";
    const hungAt = since(clock);
    await clock.advanceAsync(20_000);

    expect(a.leading).toBe(false);
    expect(a.stopped?.reason).toBe("renew-deadline-exceeded");
    expect(a.stopped?.at).toBeLessThanOrEqual(hungAt + 10_000);
  });

  it("does not lead after losing a write race, and respects the winner's fresh lease", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    store.put(`${NS}/${NAME}`, {
      holderIdentity: "ghost",
      leaseDurationSeconds: 15,
      acquireTime: new Date(clock.now()),
      renewTime: new Date(clock.now()),
      leaseTransitions: 3,
    });
    // The first time our candidate tries to take the expired lease, a rival writes first.
    store.beforeReplace = () => {
      store.beforeReplace = undefined;
      store.put(`${NS}/${NAME}`, {
        holderIdentity: "rival",
        leaseDurationSeconds: 15,
        acquireTime: new Date(clock.now()),
        renewTime: new Date(clock.now()),
        leaseTransitions: 4,
      });
    };
    const a = candidate("pod-a", store, clock);

    await clock.advanceAsync(14_000);
    expect(a.leading).toBe(false); // the ghost's lease is not yet expired by our clock
    await clock.advanceAsync(4_000);
    expect(a.leading).toBe(false); // lost the race to the rival
    expect(store.holder()).toBe("rival");
    expect(a.elector.status().leader).toBe("rival");

    await clock.advanceAsync(20_000); // the rival never renews
    expect(a.leading).toBe(true);
    expect(store.holder()).toBe("pod-a");
    expect(store.leases.get(`${NS}/${NAME}`)?.leaseTransitions).toBe(5);
  });

  it("hands the lease over at once on release", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    await clock.advanceAsync(10_000);
    expect(a.leading).toBe(true);

    const releasing = a.elector.release();
    await clock.advanceAsync(0);
    await releasing;
    expect(a.stopped?.reason).toBe("released");
    expect(a.leading).toBe(false);
    expect(store.leases.get(`${NS}/${NAME}`)).toMatchObject({
      holderIdentity: undefined,
      leaseDurationSeconds: 1,
    });

    const releasedAt = since(clock);
    await clock.advanceAsync(5_000);
    expect(b.leading).toBe(true);
    expect(b.startedAt).toBeLessThanOrEqual(releasedAt + 1_000 + 2_000);
  });

  it("gives the lease up at once when the leading work fails", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock, true);
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    await clock.advanceAsync(5_000);

    expect(a.stopped?.reason).toBe("leading-failed");
    expect(a.stopped?.at).toBeLessThan(1_000);
    expect(b.leading).toBe(true);
    expect(b.startedAt).toBeLessThanOrEqual(1_000 + 2_000 + 2_000);
  });

  it("release before winning stops campaigning without calling back", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    await clock.advanceAsync(3_000);

    await b.elector.release();
    await b.done;
    expect(b.stopped).toBeUndefined();
    expect(store.holder()).toBe("pod-a");
    expect(a.leading).toBe(true);
  });

  it("rejects timings that could let two leaders overlap", () => {
    const base = { store: new FakeLeaseStore(), namespace: NS, name: NAME, identity: "x", log };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(
      /leaseDurationMs/,
    );
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(
      /renewDeadlineMs/,
    );
    expect(() => new LeaderElector({ ...base, identity: "" })).toThrow(/identity/);
  });
});

// The elector is also what every write is checked against (api-client.ts): these pin that a process
// knows it may no longer write the instant it wakes from a freeze, before any of its timers run.
describe("LeaderElector as the process's Leadership", () => {
  const lastRenewAt = (store: FakeLeaseStore) =>
    (store.leases.get(`${NS}/${NAME}`)?.renewTime?.getTime() ?? 0) - T0;

  it("lets writes through while it leads and renews, and only then", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    expect(() => a.elector.check()).toThrow(NotLeaderError); // not yet won
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    for (let i = 0; i < 6; i++) {
      await clock.advanceAsync(10_000);
      expect(() => a.elector.check()).not.toThrow();
      expect(() => b.elector.check()).toThrow(NotLeaderError);
    }
    expect(a.elector.signal.aborted).toBe(false);
  });

  it("a leader frozen past its renew deadline refuses writes on waking, before its renew loop runs, and aborts what is in flight", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(1);
    const b = candidate("pod-b", store, clock);
    await clock.advanceAsync(10_000);
    const inFlight = a.elector.signal;

    // SIGSTOP: time passes, no timer of a's runs. Just inside the renew deadline writes still go.
    clock.jump(lastRenewAt(store) + 9_999 - since(clock));
    expect(() => a.elector.check()).not.toThrow();
    clock.jump(20_000);
    // SIGCONT: the first thing a does is a write; its renew timer is overdue but has not run.
    expect(() => a.elector.check()).toThrow(/last renewed \d+ ms ago/);
    expect(inFlight.aborted).toBe(true);
    expect(inFlight.reason).toBeInstanceOf(NotLeaderError);
    expect(a.elector.status().leading).toBe(false);
    expect(a.stopped).toBeUndefined();

    // Then its timers run: it steps down (and main.ts exits), while b takes the expired lease.
    await clock.advanceAsync(5_000);
    expect(a.stopped?.reason).toBe("renew-deadline-exceeded");
    expect(b.leading).toBe(true);
    expect(() => b.elector.check()).not.toThrow();
    expect(() => a.elector.check()).toThrow(NotLeaderError);
  });

  it("a leader frozen past its renew deadline steps down even when nobody took the lease meanwhile", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(5_000);
    // Frozen 12 s with nobody else around: the Lease still names a, and its renew would succeed.
    clock.jump(12_000);
    expect(() => a.elector.check()).toThrow(NotLeaderError);
    await clock.advanceAsync(5_000);
    expect(a.stopped?.reason).toBe("renew-deadline-exceeded");
    expect(a.leading).toBe(false);
    expect(() => a.elector.check()).toThrow(NotLeaderError);
  });

  it("on release, stops writes and aborts what is in flight", async () => {
    const clock = newClock();
    const store = new FakeLeaseStore();
    const a = candidate("pod-a", store, clock);
    await clock.advanceAsync(5_000);
    const releasing = a.elector.release();
    await clock.advanceAsync(0);
    await releasing;
    expect(a.elector.signal.aborted).toBe(true);
    expect(() => a.elector.check()).toThrow(NotLeaderError);
  });
});
