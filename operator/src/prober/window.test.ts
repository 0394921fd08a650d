import { describe, expect, it } from "vitest";
import { ProbeWindow, quantile } from "./window.ts";

describe("quantile (nearest rank)", () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it.each([
    ["empty", [], 0.5, Number.NaN],
    ["one value at p50", [7], 0.5, 7],
    ["one value at p99", [7], 0.99, 7],
    ["1..100 at p50", oneToHundred, 0.5, 50],
    ["1..100 at p95", oneToHundred, 0.95, 95],
    ["1..100 at p99", oneToHundred, 0.99, 99],
    ["1..100 at p100", oneToHundred, 1, 100],
    ["1..10 at p99 is the max", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99, 10],
    ["1..10 at p50", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5, 5],
    ["four values at p0 is the min", [3, 5, 8, 13], 0, 3],
  ])("%s", (_name, values, q, expected) => {
    expect(quantile(values, q)).toBe(expected);
  });
});

describe("ProbeWindow", () => {
  it("reports rate, quantiles over successes only, consecutive failures and the last error", () => {
    const w = new ProbeWindow({ maxSamples: 1000 });
    for (let i = 1; i <= 100; i++) w.add({ ok: true, latencyMs: i, at: 1000 + i });
    w.add({ ok: false, latencyMs: 5000, at: 2000, error: "pod-a: model-ready: HTTP 503" });
    w.add({ ok: false, latencyMs: 5000, at: 2001, error: "pod-b: timeout" });
    const s = w.stats(2001);
    expect(s).toMatchObject({
      samples: 102,
      successes: 100,
      failures: 2,
      p50LatencyMs: 50,
      p95LatencyMs: 95,
      p99LatencyMs: 99,
      consecutiveFailures: 2,
      lastError: "pod-b: timeout",
      lastErrorAt: 2001,
      lastProbeAt: 2001,
      totalProbes: 102,
    });
    expect(s.successRate).toBeCloseTo(100 / 102, 10);
  });

  it("a success ends the run of consecutive failures but keeps the last error", () => {
    const w = new ProbeWindow();
    w.add({ ok: false, latencyMs: 1, at: 1, error: "boom" });
    w.add({ ok: true, latencyMs: 1, at: 2 });
    expect(w.stats()).toMatchObject({ consecutiveFailures: 0, lastError: "boom", successes: 1, failures: 1 });
  });

  it("keeps only the newest maxSamples", () => {
    const w = new ProbeWindow({ maxSamples: 10 });
    for (let i = 0; i < 25; i++) w.add({ ok: i >= 20, latencyMs: i, at: i });
    const s = w.stats();
    // window holds samples 15..24: 15..19 failed, 20..24 succeeded
    expect(s).toMatchObject({ samples: 10, successes: 5, failures: 5, p50LatencyMs: 22, totalProbes: 25 });
  });

  it("drops samples older than maxAgeMs on add and on read", () => {
    const w = new ProbeWindow({ maxSamples: 100, maxAgeMs: 1000 });
    w.add({ ok: false, latencyMs: 1, at: 0, error: "old" });
    w.add({ ok: true, latencyMs: 10, at: 500 });
    w.add({ ok: true, latencyMs: 20, at: 1200 });
    expect(w.stats(1200)).toMatchObject({ samples: 2, failures: 0, successRate: 1 });
    expect(w.stats(2000)).toMatchObject({ samples: 1, p99LatencyMs: 20 });
    const empty = w.stats(5000);
    expect(empty.samples).toBe(0);
    expect(empty.successRate).toBeNaN();
    expect(empty.p99LatencyMs).toBeNaN();
    expect(empty.lastError).toBe("old");
  });

  it("quantiles stay correct while the ring wraps many times", () => {
    const w = new ProbeWindow({ maxSamples: 50 });
    for (let i = 0; i < 1037; i++) w.add({ ok: true, latencyMs: i % 97, at: i });
    const expected = Array.from({ length: 50 }, (_, k) => (987 + k) % 97).sort((a, b) => a - b);
    const s = w.stats();
    expect(s.p50LatencyMs).toBe(expected[24]);
    expect(s.p99LatencyMs).toBe(expected[49]);
  });
});

describe("ProbeWindow.checkCounts", () => {
  it("counts, per check, the rounds that ran it and those that failed at it, inside the window", () => {
    const w = new ProbeWindow({ maxSamples: 4 });
    w.add({ ok: true, latencyMs: 1, at: 1, checksRun: 3 }); // leaves the window below
    w.add({ ok: false, latencyMs: 1, at: 2, checksRun: 1, error: "a" });
    w.add({ ok: false, latencyMs: 1, at: 3, checksRun: 2, error: "b" });
    w.add({ ok: true, latencyMs: 1, at: 4, checksRun: 3 });
    w.add({ ok: false, latencyMs: 1, at: 5, checksRun: 3, error: "c" });
    expect(w.checkCounts(3)).toEqual([
      { runs: 4, failures: 1 },
      { runs: 3, failures: 1 },
      { runs: 2, failures: 1 },
    ]);
    expect(w.stats().failures).toBe(3);
  });

  it("samples without checksRun count for no check", () => {
    const w = new ProbeWindow();
    w.add({ ok: false, latencyMs: 1, at: 1 });
    expect(w.checkCounts(2)).toEqual([
      { runs: 0, failures: 0 },
      { runs: 0, failures: 0 },
    ]);
  });
});
