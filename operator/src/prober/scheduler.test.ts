import { describe, expect, it } from "vitest";
import { ManualClock } from "../lib/clock.ts";
import type { ScheduledTarget } from "./scheduler.ts";
import { ProbeScheduler } from "./scheduler.ts";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function targets(n: number, intervalMs = 1000, prefix = "t"): ScheduledTarget<string>[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, intervalMs, payload: `${prefix}${i}` }));
}

describe("ProbeScheduler", () => {
  it("runs each target once per interval at a fixed rate", async () => {
    const clock = new ManualClock(0);
    const runs: { id: string; at: number }[] = [];
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 10,
      jitter: 0,
      random: () => 0,
      run: async (t) => {
        runs.push({ id: t.id, at: clock.now() });
      },
    });
    s.setTargets("rev-a", targets(2));
    clock.advance(0);
    await settle();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(runs.filter((r) => r.id === "t0").map((r) => r.at)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(runs.filter((r) => r.id === "t1")).toHaveLength(6);
    await s.stop();
  });

  it("spreads the first runs of a new target set over the interval and jitters later ones", async () => {
    const clock = new ManualClock(0);
    const starts = new Map<string, number[]>();
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return (seed - 1) / 2147483646;
    };
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 100,
      jitter: 0.1,
      random,
      run: async (t) => {
        starts.set(t.id, [...(starts.get(t.id) ?? []), clock.now()]);
      },
    });
    s.setTargets("rev", targets(50));
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      await settle();
    }
    const firsts = [...starts.values()].map((v) => v[0] as number);
    expect(Math.min(...firsts)).toBeLessThan(300);
    expect(Math.max(...firsts)).toBeGreaterThan(700);
    for (const times of starts.values()) {
      for (let i = 1; i < times.length; i++) {
        const gap = (times[i] as number) - (times[i - 1] as number);
        // ±10% jitter, observed through a clock that advances in 100 ms steps
        expect(gap).toBeGreaterThanOrEqual(800);
        expect(gap).toBeLessThanOrEqual(1200);
      }
    }
    await s.stop();
  });

  it("never runs more than `concurrency` at once, queues the rest and measures their lag", async () => {
    const clock = new ManualClock(0);
    const release: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 3,
      jitter: 0,
      random: () => 0,
      run: () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return new Promise<void>((resolve) =>
          release.push(() => {
            inFlight--;
            resolve();
          }),
        );
      },
    });
    s.setTargets("rev", targets(10, 10_000));
    clock.advance(0);
    await settle();
    expect(s.stats()).toMatchObject({ inFlight: 3, queued: 7, started: 3 });
    clock.advance(40);
    for (let i = 0; i < 3; i++) release.shift()?.();
    await settle();
    expect(s.stats()).toMatchObject({ inFlight: 3, queued: 4, started: 6 });
    while (release.length > 0) {
      release.shift()?.();
      await settle();
    }
    expect(maxInFlight).toBe(3);
    const st = s.stats();
    expect(st.started).toBe(10);
    expect(st.lagMaxMs).toBe(40);
    expect(st.lagP50Ms).toBe(40);
    await s.stop();
  });

  it("skips a due run while the target's previous run is still going", async () => {
    const clock = new ManualClock(0);
    let started = 0;
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 5,
      jitter: 0,
      random: () => 0,
      run: () => {
        started++;
        return new Promise<void>(() => undefined); // hangs forever
      },
    });
    s.setTargets("rev", targets(1));
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(started).toBe(1);
    expect(s.stats().skippedBusy).toBe(3);
  });

  it("forgets removed targets, keeps the schedule of those that stay, and removes whole groups", async () => {
    const clock = new ManualClock(0);
    const runs: string[] = [];
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 10,
      jitter: 0,
      random: () => 0,
      run: async (t) => {
        runs.push(t.id);
      },
    });
    s.setTargets("a", targets(3, 1000, "a"));
    s.setTargets("b", targets(1, 1000, "b"));
    clock.advance(0);
    await settle();
    expect(runs.sort()).toEqual(["a0", "a1", "a2", "b0"]);
    runs.length = 0;
    s.setTargets("a", targets(3, 1000, "a").slice(1)); // a0 goes away
    s.removeGroup("b");
    expect(s.stats().targets).toBe(2);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(runs.filter((id) => id === "a0" || id === "b0")).toEqual([]);
    expect(runs.filter((id) => id === "a1")).toHaveLength(3);
    await s.stop();
  });

  it("holds nothing for removed groups long before their interval is up (churn)", async () => {
    const clock = new ManualClock(0);
    const runs: string[] = [];
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 10,
      jitter: 0,
      random: () => 0.5,
      run: async (t) => {
        runs.push(t.id);
      },
    });
    // A thousand revisions of one pod each, probed hourly, then deleted.
    for (let i = 0; i < 1000; i++) s.setTargets(`ns/m-${i}/r`, targets(1, 3_600_000, `m${i}`), `ns/m-${i}`);
    s.setTargets("ns/keep/r", targets(2, 3_600_000, "k"), "ns/keep");
    expect(s.stats().heapNodes).toBe(1002);
    for (let i = 0; i < 1000; i++) s.removeGroup(`ns/m-${i}/r`);
    expect(s.stats()).toMatchObject({ targets: 2, tenants: 1 });
    expect(s.stats().heapNodes).toBeLessThanOrEqual(2 * 2 + 64);
    // The survivors keep their schedule: due half an interval in.
    clock.advance(1_800_000);
    await settle();
    expect(runs.sort()).toEqual(["k0", "k1"]);
    await s.stop();
  });

  it("stop waits for runs in flight and starts nothing after", async () => {
    const clock = new ManualClock(0);
    let finished = 0;
    let started = 0;
    let release: () => void = () => undefined;
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 10,
      jitter: 0,
      random: () => 0,
      run: () => {
        started++;
        return new Promise<void>((resolve) => {
          release = () => {
            finished++;
            resolve();
          };
        });
      },
    });
    s.setTargets("rev", targets(1));
    clock.advance(0);
    await settle();
    const stopped = s.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(1);
    clock.advance(10_000);
    await settle();
    expect(started).toBe(1);
    s.setTargets("rev", targets(1));
    clock.advance(10_000);
    await settle();
    expect(started).toBe(1);
  });

  it("a run that throws does not stop the schedule", async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    const s = new ProbeScheduler<string>({
      clock,
      concurrency: 1,
      jitter: 0,
      random: () => 0,
      run: async () => {
        calls++;
        throw new Error("boom");
      },
    });
    s.setTargets("rev", targets(1));
    clock.advance(0);
    await settle();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    expect(calls).toBe(4);
    await s.stop();
  });

  describe("fair shares per tenant", () => {
    /** Runs of tenant `b` (4 quick targets) over 10 intervals, with or without tenant `a` beside it. */
    async function quickTenantRuns(withHangingTenant: boolean) {
      const clock = new ManualClock(0);
      const quickRuns: number[] = [];
      const hangingInFlight = { now: 0, max: 0 };
      const hung: (() => void)[] = [];
      const s = new ProbeScheduler<string>({
        clock,
        concurrency: 8,
        jitter: 0,
        random: () => 0,
        run: (t) => {
          if (t.payload.startsWith("a")) {
            hangingInFlight.now++;
            hangingInFlight.max = Math.max(hangingInFlight.max, hangingInFlight.now);
            return new Promise<void>((resolve) => hung.push(resolve)); // hangs until the test ends
          }
          quickRuns.push(clock.now());
          return Promise.resolve();
        },
      });
      // a: 20 pods over two revisions, all hanging; b: 4 healthy pods.
      if (withHangingTenant) {
        s.setTargets("ns-a/md/r1", targets(10, 1000, "a1-"), "ns-a/md");
        s.setTargets("ns-a/md/r2", targets(10, 1000, "a2-"), "ns-a/md");
      }
      s.setTargets("ns-b/md/r1", targets(4, 1000, "b"), "ns-b/md");
      clock.advance(0);
      await settle();
      for (let i = 0; i < 10; i++) {
        clock.advance(1000);
        await settle();
      }
      const stats = s.stats();
      for (const release of hung) release();
      await s.stop();
      return { quickRuns: quickRuns.length, hangingMax: hangingInFlight.max, stats };
    }

    it("a tenant whose pods all hang holds only its share, and the other's probe rate is its baseline", async () => {
      const baseline = await quickTenantRuns(false);
      const beside = await quickTenantRuns(true);
      expect(baseline.quickRuns).toBe(44); // 4 targets × 11 due times
      expect(beside.quickRuns).toBe(baseline.quickRuns);
      expect(beside.hangingMax).toBe(4); // 8 slots ÷ 2 tenants
      expect(beside.stats).toMatchObject({ tenants: 2, tenantShare: 4, inFlight: 4 });
    });

    it("a tenant alone may use every slot, and the share follows the number of tenants", async () => {
      const clock = new ManualClock(0);
      const hung: { tenant: string; release: () => void }[] = [];
      const s = new ProbeScheduler<string>({
        clock,
        concurrency: 8,
        jitter: 0,
        random: () => 0,
        run: (t) => new Promise<void>((release) => hung.push({ tenant: t.payload[0] as string, release })),
      });
      const held = (tenant: string) => hung.filter((h) => h.tenant === tenant).length;
      s.setTargets("a/md/r1", targets(20, 1000, "a"), "a/md");
      clock.advance(0);
      await settle();
      expect(s.stats()).toMatchObject({ tenants: 1, tenantShare: 8, inFlight: 8 });
      s.setTargets("b/md/r1", targets(1, 1000, "b"), "b/md");
      s.setTargets("c/md/r1", targets(1, 1000, "c"), "c/md");
      expect(s.stats()).toMatchObject({ tenants: 3, tenantShare: 2 });
      clock.advance(1000);
      await settle();
      // Runs already going are not cut short: b and c wait for a's runs to end (each has a deadline).
      expect([held("a"), held("b"), held("c")]).toEqual([8, 0, 0]);
      for (const h of hung.splice(0)) h.release();
      await settle();
      // From then on a holds its share only, and b and c have theirs.
      expect([held("a"), held("b"), held("c")]).toEqual([2, 1, 1]);
      s.removeGroup("b/md/r1");
      s.removeGroup("c/md/r1");
      expect(s.stats()).toMatchObject({ tenants: 1, tenantShare: 8 });
      for (const h of hung.splice(0)) h.release();
      await s.stop();
    });

    it("takes turns across tenants when slots are scarce, whatever each one's backlog", async () => {
      const clock = new ManualClock(0);
      const order: string[] = [];
      const release: (() => void)[] = [];
      const s = new ProbeScheduler<string>({
        clock,
        concurrency: 1,
        jitter: 0,
        random: () => 0,
        run: (t) => {
          order.push(t.payload[0] as string);
          return new Promise<void>((resolve) => release.push(resolve));
        },
      });
      s.setTargets("a/md/r", targets(6, 10_000, "a"), "a/md");
      s.setTargets("b/md/r", targets(2, 10_000, "b"), "b/md");
      clock.advance(0);
      await settle();
      while (release.length > 0) {
        release.shift()?.();
        await settle();
      }
      expect(order.join("")).toBe("ababaaaa");
      await s.stop();
    });

    it("groups without a tenant are each their own tenant (the default)", async () => {
      const clock = new ManualClock(0);
      const s = new ProbeScheduler<string>({
        clock,
        concurrency: 9,
        jitter: 0,
        random: () => 0,
        run: async () => undefined,
      });
      s.setTargets("g1", targets(1));
      s.setTargets("g2", targets(1));
      s.setTargets("g3", targets(1));
      expect(s.stats()).toMatchObject({ tenants: 3, tenantShare: 3 });
      await s.stop();
    });
  });
});
