// The minAgreement gate of a canary's verdict (called by verdict.ts judgeCanary). Pure.
import { type AnalysisSpec, DEFAULT_MIN_AGREEMENT_SAMPLES } from "../api/index.ts";
import type { AgreementStats } from "./agreement.ts";

export interface AgreementJudgement {
  evidence: {
    metric: "agreement" | "agreementSamples";
    value: number;
    threshold: number;
    samples: number;
    ok: boolean;
  };
  /** Set when the gate fails: what a person reads in the abort reason, with the disagreeing pair. */
  breach?: string;
  /** Set when too few pairs are in: the canary cannot pass yet. */
  waiting?: string;
}

function pct(n: number): string {
  return `${Number((n * 100).toFixed(1))}%`;
}

/**
 * The gate applies only when analysis.minAgreement is set and a stable revision serves beside the
 * canary (`hasStable`); then a canary without numbers yet (the first pairs not in) waits.
 */
export function judgeAgreement(
  analysis: Pick<AnalysisSpec, "minAgreement" | "minAgreementSamples">,
  agreement: AgreementStats | undefined,
  hasStable: boolean,
): AgreementJudgement | undefined {
  const min = analysis.minAgreement;
  if (min === undefined || !hasStable) return undefined;
  const needed = analysis.minAgreementSamples ?? DEFAULT_MIN_AGREEMENT_SAMPLES;
  const n = agreement?.samples ?? 0;
  if (agreement === undefined || n < needed) {
    const skip = agreement?.lastSkip !== undefined ? `; last pair skipped: ${agreement.lastSkip}` : "";
    return {
      evidence: { metric: "agreementSamples", value: n, threshold: needed, samples: n, ok: false },
      waiting: `${n} of ${needed} agreement pairs needed${skip}`,
    };
  }
  const ok = agreement.rate >= min;
  const judgement: AgreementJudgement = {
    evidence: { metric: "agreement", value: agreement.rate, threshold: min, samples: n, ok },
  };
  if (!ok) {
    const pair =
      agreement.lastDisagreement !== undefined ? `; last disagreement: ${agreement.lastDisagreement}` : "";
    judgement.breach = `agreement ${pct(agreement.rate)} below ${pct(min)} (${agreement.agreements} of ${n} pairs agree)${pair}`;
  }
  return judgement;
}

/** ", agreement 100% of 12 pairs" for a passing verdict's message; "" without agreement numbers. */
export function describeAgreement(agreement: AgreementStats | undefined): string {
  if (agreement === undefined || agreement.samples === 0) return "";
  return `, agreement ${pct(agreement.rate)} of ${agreement.samples} pairs`;
}
