import { describe, expect, it } from "vitest";
import type { AnalysisSpec } from "../api/index.ts";
import type { VerdictStats } from "./verdict.ts";
import { judgeCanary, judgeWarmUp } from "./verdict.ts";

const analysis: AnalysisSpec = {
  successRate: 0.99,
  p99LatencyMs: 800,
  maxP99RelativeToStable: 1.5,
  minSamples: 20,
  failureLimit: 3,
  warmupInferences: 0,
};

function stats(p: Partial<VerdictStats>): VerdictStats {
  return { samples: 100, successRate: 1, p99LatencyMs: 50, consecutiveFailures: 0, ...p };
}

describe("judgeCanary", () => {
  it.each([
    ["a healthy canary with enough samples passes", stats({}), undefined, "Pass"],
    ["too few samples is inconclusive, never a pass", stats({ samples: 19 }), undefined, "Inconclusive"],
    [
      "no samples at all is inconclusive",
      stats({ samples: 0, successRate: Number.NaN, p99LatencyMs: Number.NaN }),
      undefined,
      "Inconclusive",
    ],
    [
      "failureLimit consecutive failures fail even below minSamples",
      stats({ samples: 3, consecutiveFailures: 3, successRate: 0 }),
      undefined,
      "Fail",
    ],
    [
      "one failure fewer than failureLimit below minSamples is inconclusive",
      stats({ samples: 5, consecutiveFailures: 2 }),
      undefined,
      "Inconclusive",
    ],
    ["success rate just below the minimum fails", stats({ successRate: 0.98 }), undefined, "Fail"],
    ["success rate exactly at the minimum passes", stats({ successRate: 0.99 }), undefined, "Pass"],
    ["p99 above the maximum fails", stats({ p99LatencyMs: 801 }), undefined, "Fail"],
    ["p99 exactly at the maximum passes", stats({ p99LatencyMs: 800 }), undefined, "Pass"],
    [
      "p99 more than 1.5× the stable's fails",
      stats({ p99LatencyMs: 160 }),
      stats({ p99LatencyMs: 100 }),
      "Fail",
    ],
    ["p99 1.5× the stable's passes", stats({ p99LatencyMs: 150 }), stats({ p99LatencyMs: 100 }), "Pass"],
    [
      "the relative rule is skipped when the stable has too few samples",
      stats({ p99LatencyMs: 500 }),
      stats({ samples: 5, p99LatencyMs: 10 }),
      "Pass",
    ],
    ["the relative rule is skipped without a stable", stats({ p99LatencyMs: 500 }), undefined, "Pass"],
  ])("%s", (_name, canary, stable, verdict) => {
    expect(judgeCanary(analysis, canary, stable).verdict).toBe(verdict);
  });

  it("names every breached threshold and the last error in the message, with evidence", () => {
    const j = judgeCanary(
      analysis,
      stats({ successRate: 0.9, p99LatencyMs: 900, lastError: "pod-1: HTTP 500" }),
    );
    expect(j.verdict).toBe("Fail");
    expect(j.message).toContain("success rate 0.9000 below 0.9900");
    expect(j.message).toContain("p99 900 ms above 800 ms");
    expect(j.message).toContain("pod-1: HTTP 500");
    expect(j.evidence).toContainEqual({
      metric: "successRate",
      value: 0.9,
      threshold: 0.99,
      samples: 100,
      ok: false,
    });
    expect(j.evidence).toContainEqual({
      metric: "p99LatencyMs",
      value: 900,
      threshold: 800,
      samples: 100,
      ok: false,
    });
  });

  it("explains an inconclusive verdict by the sample count", () => {
    const j = judgeCanary(analysis, stats({ samples: 7 }));
    expect(j).toMatchObject({ verdict: "Inconclusive", message: "7 of 20 samples needed" });
    expect(j.evidence).toContainEqual({ metric: "samples", value: 7, threshold: 20, samples: 7, ok: false });
  });

  it("failureLimit 0 turns the consecutive-failure rule off", () => {
    const j = judgeCanary({ ...analysis, failureLimit: 0 }, stats({ samples: 5, consecutiveFailures: 5 }));
    expect(j.verdict).toBe("Inconclusive");
  });

  it("a canary with no successful sample fails on the success rate, not on a NaN latency", () => {
    const j = judgeCanary(
      { ...analysis, failureLimit: 0 },
      stats({ successRate: 0, p99LatencyMs: Number.NaN }),
    );
    expect(j.verdict).toBe("Fail");
    expect(j.message).toContain("success rate 0");
  });
});

describe("judgeWarmUp", () => {
  it.each([
    ["no warm-up required", { required: 0, warmPods: 0, pods: 0 }, true],
    ["no pods yet", { required: 3, warmPods: 0, pods: 0 }, false],
    ["one of two pods warm", { required: 3, warmPods: 1, pods: 2 }, false],
    ["all pods warm", { required: 3, warmPods: 2, pods: 2 }, true],
  ])("%s", (_name, w, warm) => {
    expect(judgeWarmUp(w).warm).toBe(warm);
  });
});
