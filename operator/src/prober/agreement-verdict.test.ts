// The minAgreement gate inside a canary's verdict: when it applies, waits, fails and passes.
import { describe, expect, it } from "vitest";
import type { AgreementStats } from "./agreement.ts";
import { judgeCanary, type VerdictStats } from "./verdict.ts";

const analysis = {
  successRate: 0.99,
  minSamples: 10,
  failureLimit: 2,
  warmupInferences: 0,
  minAgreement: 0.9,
};
const healthy: VerdictStats = { samples: 40, successRate: 1, p99LatencyMs: 12, consecutiveFailures: 0 };
const stable: VerdictStats = { ...healthy };
const pairs = (samples: number, agreements: number, extra: Partial<AgreementStats> = {}): AgreementStats => ({
  samples,
  agreements,
  rate: samples === 0 ? Number.NaN : agreements / samples,
  skipped: 0,
  ...extra,
});

describe("judgeCanary with minAgreement", () => {
  it("waits for minAgreementSamples pairs (default 10) and says why a pair was skipped", () => {
    const j = judgeCanary(
      analysis,
      { ...healthy, agreement: pairs(4, 4, { lastSkip: "stable pod a: timeout" }) },
      stable,
    );
    expect(j).toMatchObject({
      verdict: "Inconclusive",
      message: "4 of 10 agreement pairs needed; last pair skipped: stable pod a: timeout",
    });
    expect(judgeCanary(analysis, healthy, stable)).toMatchObject({
      verdict: "Inconclusive",
      message: "0 of 10 agreement pairs needed",
    });
  });

  it("passes at the threshold and says so", () => {
    const j = judgeCanary(analysis, { ...healthy, agreement: pairs(10, 9) }, stable);
    expect(j.verdict).toBe("Pass");
    expect(j.message).toBe("40 probes, 100% ok, p99 12 ms, agreement 90% of 10 pairs");
    expect(j.evidence).toContainEqual({
      metric: "agreement",
      value: 0.9,
      threshold: 0.9,
      samples: 10,
      ok: true,
    });
  });

  it("fails below it with the pair, beside any probe breach", () => {
    const agreement = pairs(10, 5, {
      lastDisagreement: "at $.x stable pod a answered 1, canary pod b answered 2 (not equal)",
    });
    expect(judgeCanary(analysis, { ...healthy, agreement }, stable).message).toBe(
      "agreement 50% below 90% (5 of 10 pairs agree); last disagreement: at $.x stable pod a answered 1, canary pod b answered 2 (not equal)",
    );
    const both = judgeCanary(analysis, { ...healthy, successRate: 0.5, agreement }, stable);
    expect(both.verdict).toBe("Fail");
    expect(both.message).toMatch(
      /^success rate 0\.5000 below 0\.9900 \(40 samples\); agreement 50% below 90%/,
    );
  });

  it("does not apply without minAgreement, or without a stable beside the canary", () => {
    const agreement = pairs(10, 0);
    const { minAgreement: _m, ...measuredOnly } = analysis;
    expect(judgeCanary(measuredOnly, { ...healthy, agreement }, stable).verdict).toBe("Pass");
    expect(judgeCanary(analysis, { ...healthy, agreement }).verdict).toBe("Pass");
  });
});
