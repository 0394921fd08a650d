// Output agreement per canary (spec.rollout.analysis.agreement): the share of stable/canary answer
// pairs that agree, and the pairs compared by outcome. Per revision, like probes_total: the series
// of a revision leave with it (forgetRevision).
import { Counter, Gauge, type Registry } from "prom-client";

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
    async forgetRevision(namespace, name, revision) {
      const mine = (l: Partial<Record<string, string | number>>) =>
        l.namespace === namespace && l.name === name && l.revision === revision;
      for (const { labels } of (await rate.get()).values) if (mine(labels)) rate.remove(labels);
      for (const { labels } of (await pairs.get()).values) if (mine(labels)) pairs.remove(labels);
    },
  };
}
