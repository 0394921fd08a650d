// The stream gates of an analysis (maxTTFTp99Ms, maxTPOTp99Ms, minTokensPerSecond and the two
// relative-to-stable factors), judged on the canary's stream window. Pure; judgeCanary folds the
// result into its verdict.
import type { AnalysisSpec } from "../api/index.ts";
import type { StreamStats } from "./stream-window.ts";

export type StreamEvidenceMetric =
  | "ttftP99Ms"
  | "tpotP99Ms"
  | "tokensPerSecond"
  | "ttftP99RelativeToStable"
  | "tpotP99RelativeToStable";

export interface StreamGateEvidence {
  metric: StreamEvidenceMetric;
  value: number;
  threshold: number;
  samples: number;
  ok: boolean;
}

export interface StreamGateJudgement {
  evidence: StreamGateEvidence[];
  /** One phrase per gate the canary breaks, naming the measure (TTFT, TPOT, tokens/s). */
  breaches: string[];
  /** Set when a gate is configured but the canary has too few completed streams to judge it. */
  waiting?: string;
}

type StreamGates = Pick<
  AnalysisSpec,
  | "maxTTFTp99Ms"
  | "maxTPOTp99Ms"
  | "minTokensPerSecond"
  | "maxTTFTp99RelativeToStable"
  | "maxTPOTp99RelativeToStable"
  | "minSamples"
>;

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 1 ? 4 : 1);
}

export function hasStreamGates(a: StreamGates): boolean {
  return (
    a.maxTTFTp99Ms !== undefined ||
    a.maxTPOTp99Ms !== undefined ||
    a.minTokensPerSecond !== undefined ||
    a.maxTTFTp99RelativeToStable !== undefined ||
    a.maxTPOTp99RelativeToStable !== undefined
  );
}

/**
 * Judges the stream gates with at least `minSamples` completed canary streams (fewer: `waiting`).
 * A relative gate is judged only when the stable has `minSamples` streams too and a positive
 * value (as maxP99RelativeToStable). A NaN measure (e.g. no stream of 2 tokens for TPOT) breaks
 * no gate.
 */
export function judgeStreamGates(
  a: StreamGates,
  canary: StreamStats | undefined,
  stable: StreamStats | undefined,
): StreamGateJudgement {
  const out: StreamGateJudgement = { evidence: [], breaches: [] };
  if (!hasStreamGates(a)) return out;
  const n = canary?.samples ?? 0;
  if (canary === undefined || n < a.minSamples) {
    out.waiting = `${n} of ${a.minSamples} completed streams needed`;
    return out;
  }
  const gate = (
    metric: StreamEvidenceMetric,
    value: number,
    threshold: number,
    ok: boolean,
    breach: string,
  ) => {
    out.evidence.push({ metric, value, threshold, samples: n, ok });
    if (!ok) out.breaches.push(breach);
  };
  if (a.maxTTFTp99Ms !== undefined) {
    const v = canary.p99TtftMs;
    gate(
      "ttftP99Ms",
      v,
      a.maxTTFTp99Ms,
      !(v > a.maxTTFTp99Ms),
      `TTFT p99 ${fmt(v)} ms above ${fmt(a.maxTTFTp99Ms)} ms`,
    );
  }
  if (a.maxTPOTp99Ms !== undefined) {
    const v = canary.p99TpotMs;
    gate(
      "tpotP99Ms",
      v,
      a.maxTPOTp99Ms,
      !(v > a.maxTPOTp99Ms),
      `TPOT p99 ${fmt(v)} ms above ${fmt(a.maxTPOTp99Ms)} ms`,
    );
  }
  if (a.minTokensPerSecond !== undefined) {
    const v = canary.tokensPerSecond;
    gate(
      "tokensPerSecond",
      v,
      a.minTokensPerSecond,
      !(v < a.minTokensPerSecond),
      `${fmt(v)} tokens/s below ${fmt(a.minTokensPerSecond)}`,
    );
  }
  const comparable = stable !== undefined && stable.samples >= a.minSamples;
  const relative = (
    metric: StreamEvidenceMetric,
    label: string,
    mine: number,
    theirs: number | undefined,
    factor: number | undefined,
  ) => {
    if (factor === undefined || !comparable || theirs === undefined) return;
    if (!(Number.isFinite(theirs) && theirs > 0 && Number.isFinite(mine))) return;
    const ratio = mine / theirs;
    gate(
      metric,
      ratio,
      factor,
      !(ratio > factor),
      `${label} p99 ${fmt(mine)} ms is ${fmt(ratio)}× the stable's ${fmt(theirs)} ms (max ${fmt(factor)}×)`,
    );
  };
  relative(
    "ttftP99RelativeToStable",
    "TTFT",
    canary.p99TtftMs,
    stable?.p99TtftMs,
    a.maxTTFTp99RelativeToStable,
  );
  relative(
    "tpotP99RelativeToStable",
    "TPOT",
    canary.p99TpotMs,
    stable?.p99TpotMs,
    a.maxTPOTp99RelativeToStable,
  );
  return out;
}

/** The stream part of a Pass message: ", TTFT p99 120 ms, 41.2 tokens/s". */
export function describeStream(s: StreamStats | undefined): string {
  if (s === undefined || s.samples === 0) return "";
  const tps = Number.isFinite(s.tokensPerSecond) ? `, ${fmt(s.tokensPerSecond)} tokens/s` : "";
  return `, TTFT p99 ${fmt(s.p99TtftMs)} ms${tps}`;
}
