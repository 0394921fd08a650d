// Output agreement per canary (spec.rollout.analysis.agreement): the share of stable/canary answer
// pairs that agree, and the pairs compared by outcome. Per revision, like probes_total: the series
// of a revision leave with it (forgetRevision).
import { Counter, Gauge, type Registry } from "prom-client";

/** The outcome label's values (PairOutcome kinds in prober/agreement.ts). */
const PAIR_OUTCOMES = ["agree", "disagree", "skipped"] as const;

export interface AgreementMetrics {
  /** Share of the canary's pairs in the window that agreed (0..1). */
  rate: Gauge<"namespace" | "name" | "revision">;
  /** Pairs compared, by outcome: agree, disagree, skipped (either side gave no usable answer). */
  pairs: Counter<"namespace" | "name" | "revision" | "outcome">;
  forgetRevision(namespace: string, name: string, revision: string): Promise<void>;
}

export function createAgreementMetrics(prefix: string, registers: Registry[]): AgreementMetrics {
  const rate = new Gauge({
    name: `${prefix}canary_agreement_ratio`,
    help: "Share of stable/canary answer pairs in the window that agreed, per canary revision (spec.rollout.analysis.agreement).",
    labelNames: ["namespace", "name", "revision"] as const,
    registers,
  });
  const pairs = new Counter({
    name: `${prefix}agreement_pairs_total`,
    help: "Stable/canary answer pairs compared, per canary revision and outcome (agree, disagree, skipped).",
    labelNames: ["namespace", "name", "revision", "outcome"] as const,
    registers,
  });
  return {
    rate,
    pairs,
    // By label set, not by listing every series (the churn rule in registry.ts).
    async forgetRevision(namespace, name, revision) {
      rate.remove({ namespace, name, revision });
      for (const outcome of PAIR_OUTCOMES) pairs.remove({ namespace, name, revision, outcome });
    },
  };
}
