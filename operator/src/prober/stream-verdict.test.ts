import { describe, expect, it } from "vitest";
import type { AnalysisSpec } from "../api/index.ts";
import type { StreamStats } from "./stream-window.ts";
import { StreamWindow } from "./stream-window.ts";
import { judgeCanary, type VerdictStats } from "./verdict.ts";

const base: AnalysisSpec = { successRate: 0.99, minSamples: 10, failureLimit: 3, warmupInferences: 0 };
const streams = (p: Partial<StreamStats> = {}): StreamStats => ({
  samples: 40,
  p50TtftMs: 90,
  p99TtftMs: 100,
  p50TpotMs: 18,
  p99TpotMs: 20,
  tokensPerSecond: 40,
  ...p,
});
const stats = (stream?: StreamStats): VerdictStats => ({
  samples: 40,
  successRate: 1,
  p99LatencyMs: 30,
  consecutiveFailures: 0,
  ...(stream ? { stream } : {}),
});

describe("judgeCanary: the stream gates", () => {
  it.each([
    ["TTFT p99 above maxTTFTp99Ms", { maxTTFTp99Ms: 80 }, streams(), "TTFT p99 100 ms above 80 ms"],
    ["TPOT p99 above maxTPOTp99Ms", { maxTPOTp99Ms: 15 }, streams(), "TPOT p99 20 ms above 15 ms"],
    ["tokens/s below minTokensPerSecond", { minTokensPerSecond: 50 }, streams(), "40 tokens/s below 50"],
  ])("fails on %s, naming the measure", (_, gates, s, phrase) => {
    const j = judgeCanary({ ...base, ...gates }, stats(s));
    expect(j.verdict).toBe("Fail");
    expect(j.message).toContain(phrase);
  });

  it("passes within every gate and says TTFT and tokens/s", () => {
    const j = judgeCanary(
      { ...base, maxTTFTp99Ms: 100, maxTPOTp99Ms: 20, minTokensPerSecond: 40 },
      stats(streams()),
    );
    expect(j).toMatchObject({
      verdict: "Pass",
      message: "40 probes, 100% ok, p99 30 ms, TTFT p99 100 ms, 40 tokens/s",
    });
    expect(j.evidence.map((e) => e.metric)).toEqual([
      "consecutiveFailures",
      "successRate",
      "ttftP99Ms",
      "tpotP99Ms",
      "tokensPerSecond",
    ]);
  });

  it("fails a canary with 3× the stable's TTFT, passes one with equal TTFT (relative gate)", () => {
    const gates = { ...base, maxTTFTp99RelativeToStable: 1.5 };
    const stable = stats(streams());
    expect(judgeCanary(gates, stats(streams({ p99TtftMs: 300 })), stable)).toMatchObject({
      verdict: "Fail",
      message: expect.stringContaining("TTFT p99 300 ms is 3× the stable's 100 ms (max 1.5×)"),
    });
    expect(judgeCanary(gates, stats(streams()), stable).verdict).toBe("Pass");
    const tpot = judgeCanary(
      { ...base, maxTPOTp99RelativeToStable: 1.2 },
      stats(streams({ p99TpotMs: 30 })),
      stable,
    );
    expect(tpot.message).toContain("TPOT p99 30 ms is 1.5× the stable's 20 ms (max 1.2×)");
  });

  it("skips a relative gate while the stable has too few streams (as maxP99RelativeToStable)", () => {
    const j = judgeCanary(
      { ...base, maxTTFTp99RelativeToStable: 1.5 },
      stats(streams({ p99TtftMs: 300 })),
      stats(streams({ samples: 3 })),
    );
    expect(j.verdict).toBe("Pass");
  });

  it("is Inconclusive with too few completed streams, and never passes without them", () => {
    expect(judgeCanary({ ...base, maxTTFTp99Ms: 500 }, stats(streams({ samples: 4 })))).toMatchObject({
      verdict: "Inconclusive",
      message: "4 of 10 completed streams needed",
    });
    expect(judgeCanary({ ...base, maxTTFTp99Ms: 500 }, stats()).verdict).toBe("Inconclusive");
  });

  it("a breach of another threshold still fails while streams are too few", () => {
    const j = judgeCanary(
      { ...base, maxTTFTp99Ms: 500 },
      { ...stats(streams({ samples: 0 })), successRate: 0.5 },
    );
    expect(j.verdict).toBe("Fail");
  });

  it("without stream gates, stream numbers judge nothing", () => {
    expect(judgeCanary(base, stats(streams({ p99TtftMs: 1e6 }))).verdict).toBe("Pass");
  });
});

describe("StreamWindow", () => {
  it("keeps the newest samples by count and age; TPOT ranks only streams with a gap", () => {
    const w = new StreamWindow({ maxSamples: 3, maxAgeMs: 1000 });
    w.add({ ttftMs: 999, tpotMs: 1, tokens: 2, tokensPerSecond: 1, at: 0 });
    for (const [i, ttft] of [10, 20, 30].entries())
      w.add({
        ttftMs: ttft,
        tpotMs: i === 0 ? Number.NaN : ttft / 10,
        tokens: 4,
        tokensPerSecond: ttft,
        at: 100 + i,
      });
    expect(w.stats(200)).toEqual({
      samples: 3,
      p50TtftMs: 20,
      p99TtftMs: 30,
      p50TpotMs: 2,
      p99TpotMs: 3,
      tokensPerSecond: 20,
    });
    expect(w.stats(5000).samples).toBe(0);
    expect(Number.isNaN(w.stats(5000).p99TtftMs)).toBe(true);
  });
});
