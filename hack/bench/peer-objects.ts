// The Argo Rollouts objects that do what a ModelDeployment does, for the benchmark peer: a Rollout
// running exactly the pods a ModelDeployment of the same spec runs (pod template rendered by
// operator/src/render), its Service, and the AnalysisTemplate that judges a canary from the fixture
// model server's counts as modelship's prober judges it from its probes. Pure builders and predicates.
import type { V1Service } from "@kubernetes/client-node";
import { type AnalysisSpec, ModelDeploymentSpecSchema } from "../../operator/src/api/index.ts";
import { renderDeployment } from "../../operator/src/render/deployment.ts";
import { computeRevision } from "../../operator/src/render/revision.ts";
import { renderService } from "../../operator/src/render/service.ts";

/** The same two canary steps on both sides (a first revision skips them on both). */
export const PEER_STEPS: readonly Record<string, unknown>[] = [
  { setWeight: 50 },
  { pause: { duration: "10s" } },
];

export const ROLLOUTS_API = { group: "argoproj.io", version: "v1alpha1" } as const;

/** A Rollout running exactly the pods a ModelDeployment of `mdSpec` runs, with its Service. */
export function rolloutObjects(
  ns: string,
  name: string,
  mdSpec: Record<string, unknown>,
  steps: readonly Record<string, unknown>[] = PEER_STEPS,
): { rollout: Record<string, unknown>; service: V1Service } {
  const spec = ModelDeploymentSpecSchema.parse(mdSpec);
  const owner = { name, namespace: ns, uid: "" };
  const d = renderDeployment({
    owner,
    spec,
    revision: computeRevision(spec),
    replicas: spec.replicas,
  });
  const svc = renderService({ owner, spec }) as V1Service;
  delete svc.metadata?.ownerReferences;
  const template = (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template;
  return {
    rollout: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Rollout",
      metadata: { name, namespace: ns },
      spec: {
        replicas: spec.replicas,
        revisionHistoryLimit: spec.rollout.revisionHistoryLimit,
        progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
        selector: { matchLabels: svc.spec?.selector ?? template.metadata.labels },
        template,
        // No scaleDownDelaySeconds: Argo Rollouts rejects it without traffic routing ("can only be
        // used with traffic routing"), and a replica canary scales the old pods down as it goes.
        strategy: { canary: { steps } },
      },
    },
    service: svc,
  };
}

/**
 * The steps of the failing-canary measure, after modelship's [setWeight 50, analysis, pause]: a pause
 * comes first so the bench can point the AnalysisTemplate at the canary's pods once they have
 * addresses (the web provider reads one fixed URL); the fault is injected only after the analysis
 * has started.
 */
export function rollbackSteps(templateName: string, pauseSeconds: number): Record<string, unknown>[] {
  return [
    { setWeight: 50 },
    { pause: { duration: `${pauseSeconds}s` } },
    { analysis: { templates: [{ templateName }] } },
    { pause: { duration: "60s" } },
  ];
}

/** The fixture control API's summed counts of these pods (operator/testing/model-server.ts). */
export function canaryStatsUrl(controlUrl: string, podIps: readonly string[]): string {
  return `${controlUrl}/stats?ips=${podIps.join(",")}`;
}

/**
 * The AnalysisTemplate that judges a canary as modelship's analysis does: success rate at least
 * `successRate` once `minSamples` answers are in (fewer count as a pass: an Inconclusive measurement
 * would pause the Rollout instead), measured every `intervalSeconds`. failureLimit 0, Argo Rollouts'
 * default: the first failed measurement fails the run, as modelship fails on its first failing verdict.
 */
export function successRateTemplate(
  ns: string,
  name: string,
  opts: {
    statsUrl: string;
    analysis: Pick<AnalysisSpec, "successRate" | "minSamples">;
    intervalSeconds: number;
    /** An analysis step's metric must end: it passes after this many measurements. */
    count: number;
  },
): Record<string, unknown> {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "AnalysisTemplate",
    metadata: { name, namespace: ns },
    spec: {
      metrics: [
        {
          name: "success-rate",
          interval: `${opts.intervalSeconds}s`,
          count: opts.count,
          failureLimit: 0,
          successCondition: `result.requests < ${opts.analysis.minSamples} || result.successRate >= ${opts.analysis.successRate}`,
          provider: { web: { url: opts.statsUrl, jsonPath: "{$.total}", timeoutSeconds: 5 } },
        },
      ],
    },
  };
}

type RolloutView = {
  metadata: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    phase?: string;
    observedGeneration?: string | number;
    availableReplicas?: number;
    updatedReplicas?: number;
    abort?: boolean;
  };
};

/** Healthy at the current generation, every replica available: the Rollout's own "done". */
export function rolloutAvailable(obj: Record<string, unknown>): boolean {
  const r = obj as RolloutView;
  return (
    r.status?.phase === "Healthy" &&
    String(r.status.observedGeneration) === String(r.metadata.generation) &&
    (r.status.availableReplicas ?? 0) >= (r.spec?.replicas ?? 1)
  );
}

/** Why Argo Rollouts refused the Rollout's spec (its InvalidSpec condition), if it did. */
export function rolloutInvalid(obj: Record<string, unknown>): string | undefined {
  const conditions = (
    obj as { status?: { conditions?: { type: string; status: string; message?: string }[] } }
  ).status?.conditions;
  const c = conditions?.find((x) => x.type === "InvalidSpec" && x.status === "True");
  return c ? (c.message ?? "InvalidSpec") : undefined;
}

/** The Rollout gave up its canary: Argo Rollouts' counterpart of modelship's rejected revision. */
export function rolloutAborted(obj: Record<string, unknown>): boolean {
  return (obj as RolloutView).status?.abort === true;
}

/** Aborted, and no canary pod is left: every replica runs the stable revision. */
export function rolloutBackOnStable(obj: Record<string, unknown>): boolean {
  const r = obj as RolloutView;
  return rolloutAborted(obj) && (r.status?.updatedReplicas ?? 0) === 0;
}
