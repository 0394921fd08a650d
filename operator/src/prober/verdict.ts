// The prober's judgement of a revision from its probe window: a canary against the analysis
// thresholds (spec.rollout.analysis), and a new revision's warm-up. Pure.
import type { AnalysisSpec, Verdict } from "../api/index.ts";
import type { AgreementStats } from "./agreement.ts";
import { describeAgreement, judgeAgreement } from "./agreement-verdict.ts";
import { describeStream, judgeStreamGates, type StreamEvidenceMetric } from "./stream-verdict.ts";
import type { StreamStats } from "./stream-window.ts";
import type { WindowStats } from "./window.ts";

export type VerdictStats = Pick<
  WindowStats,
  "samples" | "successRate" | "p99LatencyMs" | "consecutiveFailures" | "lastError"
> & { agreement?: AgreementStats | undefined; stream?: StreamStats | undefined };

export interface Evidence {
  metric:
    | "successRate"
    | "p99LatencyMs"
    | "p99RelativeToStable"
    | "consecutiveFailures"
    | "samples"
    | "agreement"
    | "agreementSamples"
    | StreamEvidenceMetric;
  value: number;
  threshold: number;
  samples: number;
  ok: boolean;
}

export interface CanaryJudgement {
  verdict: Verdict;
  evidence: Evidence[];
  message: string;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 1 ? 4 : 1);
}

/**
 * Judges a canary from its probe window (and the stable's, for the relative latency rule). Pure.
 * `failureLimit` counts consecutive failed probes: when the newest `failureLimit` probes of the
 * canary (over all its pods) all failed, the canary fails at once, even before `minSamples` are in
 * (a dead canary should not wait for a quorum); 0 turns that rule off. The rate and latency
 * thresholds are judged only with at least `minSamples` samples; agreement (minAgreement, only while a
 * stable serves) with at least minAgreementSamples pairs. Order: consecutive failures (Fail at any
 * sample count) → too few samples (Inconclusive, never Pass) → success rate, p99, p99 relative to
 * stable, agreement (any breach: Fail) → too few agreement pairs (Inconclusive) → Pass.
 */
export function judgeCanary(
  analysis: AnalysisSpec,
  canary: VerdictStats,
  stable?: VerdictStats,
): CanaryJudgement {
  const evidence: Evidence[] = [];
  const n = canary.samples;
  const lastError = canary.lastError !== undefined ? `; last error: ${canary.lastError}` : "";

  if (analysis.failureLimit > 0) {
    const ok = canary.consecutiveFailures < analysis.failureLimit;
    evidence.push({
      metric: "consecutiveFailures",
      value: canary.consecutiveFailures,
      threshold: analysis.failureLimit,
      samples: n,
      ok,
    });
    if (!ok) {
      return {
        verdict: "Fail",
        evidence,
        message: `${canary.consecutiveFailures} consecutive probe failures reach failureLimit ${analysis.failureLimit}${lastError}`,
      };
    }
  }

  if (n < analysis.minSamples) {
    evidence.push({ metric: "samples", value: n, threshold: analysis.minSamples, samples: n, ok: false });
    return {
      verdict: "Inconclusive",
      evidence,
      message: `${n} of ${analysis.minSamples} samples needed`,
    };
  }

  const breaches: string[] = [];
  const rateOk = canary.successRate >= analysis.successRate;
  evidence.push({
    metric: "successRate",
    value: canary.successRate,
    threshold: analysis.successRate,
    samples: n,
    ok: rateOk,
  });
  if (!rateOk) breaches.push(`success rate ${fmt(canary.successRate)} below ${fmt(analysis.successRate)}`);

  if (analysis.p99LatencyMs !== undefined) {
    // No successful sample means no latency to judge; the success rate has already failed then.
    const ok = !(canary.p99LatencyMs > analysis.p99LatencyMs);
    evidence.push({
      metric: "p99LatencyMs",
      value: canary.p99LatencyMs,
      threshold: analysis.p99LatencyMs,
      samples: n,
      ok,
    });
    if (!ok) breaches.push(`p99 ${fmt(canary.p99LatencyMs)} ms above ${fmt(analysis.p99LatencyMs)} ms`);
  }

  const factor = analysis.maxP99RelativeToStable;
  if (
    factor !== undefined &&
    stable !== undefined &&
    stable.samples >= analysis.minSamples &&
    Number.isFinite(stable.p99LatencyMs) &&
    stable.p99LatencyMs > 0
  ) {
    const ratio = canary.p99LatencyMs / stable.p99LatencyMs;
    const ok = !(ratio > factor);
    evidence.push({ metric: "p99RelativeToStable", value: ratio, threshold: factor, samples: n, ok });
    if (!ok) {
      breaches.push(
        `p99 ${fmt(canary.p99LatencyMs)} ms is ${fmt(ratio)}× the stable's ${fmt(stable.p99LatencyMs)} ms (max ${fmt(factor)}×)`,
      );
    }
  }

  // Stream gates (TTFT, TPOT, tokens/s): stream-verdict.ts.
  const streams = judgeStreamGates(analysis, canary.stream, stable?.stream);
  evidence.push(...streams.evidence);
  breaches.push(...streams.breaches);
  // Output agreement with the stable (agreement-verdict.ts): its breach carries the disagreeing pair.
  const agreement = judgeAgreement(analysis, canary.agreement, stable !== undefined);
  if (agreement !== undefined) evidence.push(agreement.evidence);

  if (breaches.length > 0 || agreement?.breach !== undefined) {
    const probes = breaches.length > 0 ? `${breaches.join("; ")} (${n} samples)${lastError}` : "";
    const message = [probes, agreement?.breach].filter((m) => m !== undefined && m !== "").join("; ");
    return { verdict: "Fail", evidence, message };
  }
  if (agreement?.waiting !== undefined) {
    return { verdict: "Inconclusive", evidence, message: agreement.waiting };
  }
  if (streams.waiting !== undefined) {
    return { verdict: "Inconclusive", evidence, message: streams.waiting };
  }
  const p99 = Number.isFinite(canary.p99LatencyMs) ? `, p99 ${fmt(canary.p99LatencyMs)} ms` : "";
  return {
    verdict: "Pass",
    evidence,
    message: `${n} probes, ${fmt(canary.successRate * 100)}% ok${p99}${describeStream(canary.stream)}${describeAgreement(canary.agreement)}`,
  };
}

/** Warm-up progress of a revision: each Ready pod needs `required` successful inference checks. */
export interface WarmUpStats {
  required: number;
  warmPods: number;
  pods: number;
}

/**
 * A canary may take traffic once every one of its (at least one) pods has passed `required`
 * inference checks. `required` 0 means no warm-up.
 */
export function judgeWarmUp(w: WarmUpStats): { warm: boolean; message: string } {
  if (w.required <= 0) return { warm: true, message: "no warm-up required" };
  if (w.pods === 0) return { warm: false, message: "no Ready pods to warm up" };
  const warm = w.warmPods >= w.pods;
  return {
    warm,
    message: warm
      ? `${w.pods} pods warmed up with ${w.required} inference checks each`
      : `${w.warmPods} of ${w.pods} pods warmed up (${w.required} successful inference checks each)`,
  };
}
