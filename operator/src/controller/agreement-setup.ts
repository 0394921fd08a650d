// spec.rollout.analysis.agreement → what the prober compares (prober/agreement-probes.ts), field by
// field: the request (its own, else spec.health.inference's), the JSON path, the comparison with
// its defaults resolved here (tolerances 0, one pair per interval), the probe interval and deadline.
// Only while a stable revision and a different canary are both live; otherwise nothing is compared.
import { type AgreementSpec, DEFAULT_PAIRS_PER_INTERVAL, type ModelDeployment } from "../api/index.ts";
import type { Comparison } from "../prober/agreement.ts";
import type { AgreementSetup } from "../prober/agreement-probes.ts";

function comparisonOf(a: AgreementSpec): Comparison {
  switch (a.compare) {
    case "Exact":
      return { compare: "Exact" };
    case "Numeric":
      return {
        compare: "Numeric",
        absoluteTolerance: a.absoluteTolerance ?? 0,
        relativeTolerance: a.relativeTolerance ?? 0,
      };
    case "Text":
      return a.minTokenOverlap === undefined
        ? { compare: "Text" }
        : { compare: "Text", minTokenOverlap: a.minTokenOverlap };
  }
}

/**
 * The pairs to compare for a ModelDeployment (`key` = namespace/name) at the rollout's position, or
 * undefined when there is nothing to compare (no agreement, no stable beside a canary, not both live).
 */
export function agreementSetupFor(
  key: string,
  md: ModelDeployment,
  position: { stable?: string | undefined; canary?: string | undefined },
  live: ReadonlySet<string>,
): AgreementSetup | undefined {
  const a = md.spec.rollout.analysis.agreement;
  const { stable, canary } = position;
  if (a === undefined || !stable || !canary || stable === canary) return undefined;
  if (!live.has(stable) || !live.has(canary)) return undefined;
  const source = a.request ?? md.spec.health.inference;
  // The schema requires one of them (CEL and zod); a spec read without that check compares nothing.
  if (source === undefined) return undefined;
  return {
    stableKey: `${key}/${stable}`,
    canaryKey: `${key}/${canary}`,
    spec: {
      request: {
        method: source.method,
        path: source.path,
        ...(source.body !== undefined ? { body: source.body } : {}),
      },
      jsonPath: a.jsonPath,
      comparison: comparisonOf(a),
      pairsPerInterval: a.pairsPerInterval ?? DEFAULT_PAIRS_PER_INTERVAL,
      intervalMs: md.spec.health.intervalSeconds * 1000,
      timeoutMs: md.spec.health.timeoutSeconds * 1000,
    },
  };
}
