// Step 3's input: maps the context (parsed ModelDeployment, children, the prober's verdicts,
// status) onto the rollout engine's plain input (rollout/types.ts). The engine knows nothing of the
// CR's shape; this is where the two meet. The reverse direction is compose-status.ts.
import { ANNOTATION, desiredTotalReplicas, type ModelDeployment } from "../api/index.ts";
import { loadState } from "../rollout/persisted-state.ts";
import { planStep } from "../rollout/steps.ts";
import type { ManualRequests, RevisionVerdict, RolloutConfig, RolloutInput } from "../rollout/types.ts";
import type { ObservedRevision } from "./observe.ts";
import type { ReconcileContext } from "./snapshot.ts";

/** Where verdicts come from: the prober's, or (with --prober=false) pod readiness. */
export interface VerdictSource {
  /** The prober's verdict for a revision, or undefined when it has none (yet). */
  verdict(key: string, revision: string): RevisionVerdict | undefined;
}

export function rolloutInput(
  ctx: ReconcileContext,
  md: ModelDeployment,
  prober: VerdictSource | undefined,
): RolloutInput {
  const health: Record<string, RevisionVerdict> = {};
  for (const o of ctx.observed) health[o.revision] = verdictFor(ctx.key, o, prober);
  return {
    desiredRevision: ctx.desiredRevision,
    desiredModelVersion: md.spec.model.version,
    desiredImage: md.spec.runtime.image,
    generation: ctx.generation,
    rollout: rolloutConfig(md, prober !== undefined),
    totalReplicas: desiredTotalReplicas(md.spec),
    state: loadState(ctx.status),
    observed: ctx.observed.map((o) => ({
      revision: o.revision,
      specReplicas: o.specReplicas,
      readyReplicas: o.readyReplicas,
      availableReplicas: o.availableReplicas,
      updatedReplicas: o.updatedReplicas,
      ...(o.failure ? { failure: o.failure } : {}),
      ...(o.loading ? { loading: o.loading } : {}),
      ...(o.lastReadyAt ? { lastReadyAt: o.lastReadyAt } : {}),
    })),
    health,
    requests: manualRequests(md),
    now: ctx.now,
  };
}

export function rolloutConfig(md: ModelDeployment, proberEnabled: boolean): RolloutConfig {
  const r = md.spec.rollout;
  return {
    steps: r.steps.map(planStep),
    progressDeadlineMs: r.progressDeadlineSeconds * 1000,
    startupBudgetMs: md.spec.runtime.startupTimeoutSeconds * 1000,
    scaleDownDelayMs: r.scaleDownDelaySeconds * 1000,
    traffic: r.traffic?.gatewayAPI ? "gatewayAPI" : r.traffic?.traefik ? "traefik" : "replicaRatio",
    analysisConfigured: proberEnabled,
    historyLimit: r.revisionHistoryLimit,
  };
}

export function manualRequests(md: ModelDeployment): ManualRequests {
  const a = md.metadata.annotations ?? {};
  const id = (k: string) => (a[k] && a[k].length > 0 ? a[k] : undefined);
  return {
    ...(id(ANNOTATION.promote) ? { promote: id(ANNOTATION.promote) } : {}),
    ...(id(ANNOTATION.promoteFull) ? { promoteFull: id(ANNOTATION.promoteFull) } : {}),
    ...(id(ANNOTATION.abort) ? { abort: id(ANNOTATION.abort) } : {}),
    ...(id(ANNOTATION.retry) ? { retry: id(ANNOTATION.retry) } : {}),
    paused: a[ANNOTATION.paused] === "true",
  };
}

/** With the prober on, only its verdict passes a gate; without it, a revision whose pods are all Ready. */
function verdictFor(key: string, o: ObservedRevision, prober: VerdictSource | undefined): RevisionVerdict {
  if (prober) {
    return (
      prober.verdict(key, o.revision) ?? { verdict: "Inconclusive", message: "waiting for the first probes" }
    );
  }
  const ready = o.specReplicas > 0 && o.readyReplicas >= o.specReplicas;
  const message = `${o.readyReplicas}/${o.specReplicas} pods ready`;
  return { verdict: ready ? "Pass" : "Inconclusive", message };
}
